//! The big values of the order tables as they are kept on disk: order documents, event
//! payloads and the kept answers to order writes.
//!
//! Each is JSON of a few hundred bytes to a few kilobytes whose bulk is the same field
//! names and the same shapes again and again; compressed one by one, without help, zstd
//! halves them at best (a 3.8 KB document becomes 1.1 KB). Compressed against a
//! dictionary that already holds those shapes they come to a seventh of their size, and
//! what is left is mostly the identifiers that only that value has.
//!
//! A packed value is the format byte [`ZSTD_DICTIONARY_1`] and a zstd frame made with
//! `dictionary-1.json` as raw content: one sample of each common event payload and an
//! order document, every identifier and instant zeroed. **That file can never change**:
//! every value packed with it needs it, byte for byte, to be read. A better dictionary
//! is a new file under a new format byte, and both are read from then on.
//!
//! A value that does not start with a format byte is what was stored before values were
//! packed (JSON text, which starts with `{` or `[`), and is read as it is.

use crate::{Result, StoreError};
use std::cell::RefCell;
use std::sync::LazyLock;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Format byte: a zstd frame compressed with `dictionary-1.json`.
const ZSTD_DICTIONARY_1: u8 = 1;

static DICTIONARY_1: &[u8] = include_bytes!("packed/dictionary-1.json");

/// zstd's level 3, its default: with the dictionary, level 6 would save about 70 bytes
/// more on a document at two and a half times the cost, on the path of every order write.
const LEVEL: i32 = 3;

/// No value the order tables keep comes near this; a frame that says it holds more is
/// damaged, and is refused rather than given the memory.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

static ENCODER: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_1, LEVEL));
static DECODER: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1));

thread_local! {
    // A zstd context costs allocations to set up; each thread keeps one of each.
    static PACKER: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static UNPACKER: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

fn broken(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("{what}: {e}"))
}

/// `value` as it is kept on disk.
pub fn pack(value: &[u8]) -> Result<Vec<u8>> {
    let make = || {
        Compressor::with_prepared_dictionary(&ENCODER)
            .map_err(|e| broken("cannot set up compression", e))
    };
    let frame = PACKER.with(|cell| {
        with_kept(cell, make, |packer| {
            packer
                .compress(value)
                .map_err(|e| broken("cannot compress a value", e))
        })
    })?;
    let mut packed = Vec::with_capacity(frame.len() + 1);
    packed.push(ZSTD_DICTIONARY_1);
    packed.extend_from_slice(&frame);
    Ok(packed)
}

/// A value as it was given to [`pack`] (or as it was stored before values were packed).
pub fn unpack(stored: Vec<u8>) -> Result<Vec<u8>> {
    match stored.split_first() {
        Some((&ZSTD_DICTIONARY_1, frame)) => unpack_frame(frame),
        _ => Ok(stored),
    }
}

/// A packed value that holds text (JSON).
pub fn unpack_text(what: &str, stored: Vec<u8>) -> Result<String> {
    String::from_utf8(unpack(stored)?).map_err(|e| broken(&format!("unreadable {what}"), e))
}

fn unpack_frame(frame: &[u8]) -> Result<Vec<u8>> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_UNPACKED => size,
        Ok(size) => {
            return Err(broken(
                "a packed value",
                format!("says it holds {size:?} bytes"),
            ));
        }
        Err(e) => return Err(broken("a damaged packed value", format!("{e:?}"))),
    };
    let capacity = usize::try_from(size).map_err(|e| broken("a packed value", e))?;
    let make = || {
        Decompressor::with_prepared_dictionary(&DECODER)
            .map_err(|e| broken("cannot set up decompression", e))
    };
    UNPACKER.with(|cell| {
        with_kept(cell, make, |unpacker| {
            unpacker
                .decompress(frame, capacity)
                .map_err(|e| broken("a damaged packed value", e))
        })
    })
}

/// Runs `work` on the thread's kept context, made by `make` the first time.
fn with_kept<T, R>(
    cell: &RefCell<Option<T>>,
    make: impl FnOnce() -> Result<T>,
    work: impl FnOnce(&mut T) -> Result<R>,
) -> Result<R> {
    let mut cell = cell.borrow_mut();
    let kept = match cell.as_mut() {
        Some(kept) => kept,
        None => cell.insert(make()?),
    };
    work(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"id":"01a24f9f-d466-71e6-afba-7d2c08f46834","store_id":"01a24f9f-d3e0-771b-a05d-789136da3c9e","number":1,"kind":"counter","status":"paid","table_id":null,"lines":[{"id":"01a24f9f-d472-73d8-bc82-7cfbccb73e7a","name":"Prato 14","quantity":3,"unit_price":2900,"notes":"sem cebola"}]}"#;

    #[test]
    fn a_value_comes_back_as_it_was_given() {
        for value in ["", "{}", DOCUMENT, &DOCUMENT.repeat(50)] {
            let packed = pack(value.as_bytes()).expect("pack");
            assert_eq!(packed[0], ZSTD_DICTIONARY_1);
            assert_eq!(unpack_text("value", packed).expect("unpack"), value);
        }
    }

    #[test]
    fn the_dictionary_makes_a_document_small() {
        let packed = pack(DOCUMENT.as_bytes()).expect("pack");
        // The shape is in the dictionary; what is left is mostly the identifiers.
        assert!(
            packed.len() * 2 < DOCUMENT.len(),
            "{} of {} bytes",
            packed.len(),
            DOCUMENT.len()
        );
    }

    #[test]
    fn a_value_stored_before_packing_is_read_as_it_is() {
        let stored = DOCUMENT.as_bytes().to_vec();
        assert_eq!(unpack_text("value", stored).expect("unpack"), DOCUMENT);
    }

    #[test]
    fn a_damaged_value_is_an_error_not_a_panic() {
        let mut packed = pack(DOCUMENT.as_bytes()).expect("pack");
        packed.truncate(packed.len() / 2);
        assert!(unpack(packed).is_err());
        assert!(unpack(vec![ZSTD_DICTIONARY_1]).is_err());
        assert!(unpack(vec![ZSTD_DICTIONARY_1, 0x28, 0xb5, 0x2f, 0xfd, 0xff]).is_err());
    }

    #[test]
    fn the_dictionary_is_the_one_values_were_packed_with() {
        // Changing the file would make every value packed with it unreadable.
        use sha2::{Digest, Sha256};
        let hash: String = Sha256::digest(DICTIONARY_1)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hash,
            "8ad811c3fa1dd51a0bffa57798cb61ac755507203abb1bf05bef4788ce2f93e9"
        );
    }
}
