//! The part of the menu that moves with every sale: which variants are sold out. The
//! rest of the document changes only with the catalog and is kept built (see
//! [`crate::menu`]); the sold-out list is read on each request and added at the end,
//! also to the kept gzip: the document's body is compressed once as an unfinished
//! deflate stream, and each answer finishes it with the compressed tail and a checksum
//! combined from the two parts, so a 30 MB menu is never compressed twice.

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress, Status};
use std::io;

/// A gzip member header: deflate, no name, no time, unknown system (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A JSON object without its closing brace, plain and as an unfinished gzip stream.
pub struct OpenDocument {
    plain: Bytes,
    gzip: Bytes,
    crc: crc32fast::Hasher,
}

impl OpenDocument {
    /// `json` must be a serialized object (its last byte the closing brace).
    pub fn new(json: &[u8]) -> io::Result<Self> {
        let open = json
            .strip_suffix(b"}")
            .ok_or_else(|| io::Error::other("the menu is not a JSON object"))?;
        let mut gzip = GZIP_HEADER.to_vec();
        gzip.extend(deflate(open, FlushCompress::Sync)?);
        let mut crc = crc32fast::Hasher::new();
        crc.update(open);
        Ok(Self {
            plain: Bytes::copy_from_slice(open),
            gzip: Bytes::from(gzip),
            crc,
        })
    }

    /// The document with `tail` (members and the closing brace) added, plain or gzipped.
    pub fn finish(&self, tail: &[u8], gzip: bool) -> io::Result<Bytes> {
        if !gzip {
            let mut body = BytesMut::with_capacity(self.plain.len() + tail.len());
            body.extend_from_slice(&self.plain);
            body.extend_from_slice(tail);
            return Ok(body.freeze());
        }
        let compressed = deflate(tail, FlushCompress::Finish)?;
        let mut crc = self.crc.clone();
        crc.update(tail);
        // ISIZE is the length modulo 2^32.
        let size = (self.plain.len() + tail.len()) & 0xffff_ffff;
        let size = u32::try_from(size).unwrap_or_default();
        let mut body = BytesMut::with_capacity(self.gzip.len() + compressed.len() + 8);
        body.extend_from_slice(&self.gzip);
        body.extend_from_slice(&compressed);
        body.extend_from_slice(&crc.finalize().to_le_bytes());
        body.extend_from_slice(&size.to_le_bytes());
        Ok(body.freeze())
    }
}

/// Raw deflate of `input` with a compressor of its own: `Sync` leaves the stream open
/// at a byte boundary (more blocks may follow), `Finish` ends it. A second compressor's
/// blocks refer only to its own input, so they may follow the first's.
fn deflate(input: &[u8], flush: FlushCompress) -> io::Result<Vec<u8>> {
    // Fast: a large menu shrinks about tenfold in a fraction of the best level's time.
    let mut compress = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(input.len() / 8 + 64);
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(4096));
        }
        let read = usize::try_from(compress.total_in()).map_err(io::Error::other)?;
        let rest = input.get(read..).unwrap_or_default();
        let status = compress
            .compress_vec(rest, &mut out, flush)
            .map_err(io::Error::other)?;
        let all_read = compress.total_in() >= input.len() as u64;
        let room_left = out.len() < out.capacity();
        match (status, flush) {
            (Status::StreamEnd, _) => return Ok(out),
            (_, FlushCompress::Sync) if all_read && room_left => return Ok(out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut plain)
            .expect("a valid gzip stream");
        plain
    }

    #[test]
    fn the_kept_gzip_finished_with_a_tail_is_the_whole_document() {
        // Large enough for several deflate blocks and repeated text the tail can't refer to.
        let products: Vec<String> = (0..20_000)
            .map(|i| format!("{{\"id\":\"p{i}\",\"name\":\"Cerveja {}\"}}", i % 97))
            .collect();
        let json = format!("{{\"products\":[{}]}}", products.join(","));
        let open = OpenDocument::new(json.as_bytes()).expect("open");
        for tail in [&b",\"sold_out\":[]}"[..], b",\"sold_out\":[\"a\",\"b\"]}"] {
            let expected = [&json.as_bytes()[..json.len() - 1], tail].concat();
            let plain = open.finish(tail, false).expect("plain");
            assert_eq!(plain.as_ref(), expected.as_slice());
            let gzip = open.finish(tail, true).expect("gzip");
            assert!(
                gzip.len() < expected.len() / 4,
                "compressed: {}",
                gzip.len()
            );
            assert_eq!(gunzip(&gzip), expected);
        }
    }

    #[test]
    fn only_an_object_can_be_left_open() {
        assert!(OpenDocument::new(b"[1,2]").is_err());
    }
}
