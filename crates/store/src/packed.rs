//! The big values of the order tables as they are kept on disk: order documents, event
//! payloads and the kept answers to order writes.
//!
//! Each is JSON of a few hundred bytes to a few kilobytes whose bulk is the same field
//! names and the same shapes again and again; compressed one by one, without help, zstd
//! halves them at best (a 3.8 KB document becomes 1.1 KB). Compressed against a
//! dictionary that already holds those shapes they come to a seventh of their size, and
//! what is left is mostly the identifiers that only that value has.
//!
//! Two formats, each named by the value's first byte:
//!
//! - [`ZSTD_DICTIONARY_1`]: a zstd frame made with `dictionary-1.json` as raw content:
//!   one sample of each common event payload and an order document, every identifier
//!   and instant zeroed. **That file can never change**: every value packed with it
//!   needs it, byte for byte, to be read.
//! - [`ZSTD_STORE_DICTIONARY`]: the number of one of the store's own dictionaries (a
//!   LEB128 varint), then a zstd frame made with it. A store's dictionary is
//!   `dictionary-1.json` followed by the store's latest orders and payloads, so what an
//!   order shares with the orders before it (the menu's identifiers and names, the
//!   staff, the tax rates) costs a few bytes instead of twenty for each identifier. They
//!   are rows of `packing_dictionaries`, written before any value uses them and never
//!   changed; see [`Dictionaries`].
//!
//! Values are written in the same two formats without the frame's first four bytes, its
//! magic number, which is the same in every frame and which the format byte already
//! says: [`BARE_DICTIONARY_1`] and [`BARE_STORE_DICTIONARY`] (four bytes a value, 14
//! values an order with its answers). Reading puts the magic number back.
//!
//! A value that does not start with a format byte is what was stored before values were
//! packed (JSON text, which starts with `{` or `[`), and is read as it is.

use crate::{Result, StoreError};
use comanda_domain::StoreId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};
use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

/// Format byte: a zstd frame compressed with `dictionary-1.json`.
const ZSTD_DICTIONARY_1: u8 = 1;

/// Format byte: a store dictionary's number, then a zstd frame compressed with it.
const ZSTD_STORE_DICTIONARY: u8 = 2;

/// Format byte: [`ZSTD_DICTIONARY_1`] without the frame's magic number.
const BARE_DICTIONARY_1: u8 = 3;

/// Format byte: [`ZSTD_STORE_DICTIONARY`] without the frame's magic number.
const BARE_STORE_DICTIONARY: u8 = 4;

/// What every zstd frame starts with (`ZSTD_MAGICNUMBER`, little-endian).
const FRAME_MAGIC: [u8; 4] = 0xFD2F_B528_u32.to_le_bytes();

static DICTIONARY_1: &[u8] = include_bytes!("packed/dictionary-1.json");

/// zstd's level 3, its default: with the dictionary, level 6 would save about 70 bytes
/// more on a document at two and a half times the cost, on the path of every order write.
const LEVEL: i32 = 3;

/// No value the order tables keep comes near this; a frame that says it holds more is
/// damaged, and is refused rather than given the memory.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// The most a store dictionary holds. zstd reaches back at most this far anyway at
/// level 3 for small values, and a larger one costs memory in every instance that
/// reads its values for little gain (measured: 20 recent orders pack documents 8 %
/// smaller than 10, 40 no smaller than 10).
pub const MAX_DICTIONARY: usize = 64 * 1024;

/// Event payloads are written once and kept for ever, so they are worth zstd's level 12:
/// measured on a store's payloads with its dictionary, 13 % smaller than level 3 (110.7
/// bytes against 127.1 on average) for 19 µs a payload instead of 7 (release build),
/// about 85 µs more CPU on an order's seven events. Documents, rewritten on every write
/// of their order, and answers gain less than 2 % from it and stay at [`LEVEL`].
const PAYLOAD_LEVEL: i32 = 12;

static ENCODER_1: LazyLock<CDict<'static>> = LazyLock::new(|| CDict::create(DICTIONARY_1, LEVEL));
static PAYLOAD_ENCODER_1: LazyLock<CDict<'static>> =
    LazyLock::new(|| CDict::create(DICTIONARY_1, PAYLOAD_LEVEL));
static DECODER_1: LazyLock<DDict<'static>> = LazyLock::new(|| DDict::create(DICTIONARY_1));

thread_local! {
    // A zstd context costs allocations to set up; each thread keeps one of each and
    // names the dictionary on each call.
    static PACKER: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
    static UNPACKER: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

fn broken(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("{what}: {e}"))
}

fn zstd_error(code: usize) -> String {
    zstd::zstd_safe::get_error_name(code).to_owned()
}

/// `value` as it is kept on disk, packed with `dictionary-1.json`.
pub fn pack(value: &[u8]) -> Result<Vec<u8>> {
    frame_after(vec![BARE_DICTIONARY_1], value, &ENCODER_1)
}

/// `head` followed by `value` compressed with `dictionary`, in a frame without its magic
/// number.
fn frame_after(head: Vec<u8>, value: &[u8], dictionary: &CDict<'_>) -> Result<Vec<u8>> {
    let start = head.len();
    let mut framed = whole_frame_after(head, value, dictionary)?;
    if framed.get(start..start + FRAME_MAGIC.len()) != Some(&FRAME_MAGIC[..]) {
        return Err(broken("cannot compress a value", "no frame magic"));
    }
    framed.drain(start..start + FRAME_MAGIC.len());
    Ok(framed)
}

/// `head` followed by `value` compressed with `dictionary`.
fn whole_frame_after(mut head: Vec<u8>, value: &[u8], dictionary: &CDict<'_>) -> Result<Vec<u8>> {
    let start = head.len() as u64;
    head.reserve(zstd::zstd_safe::compress_bound(value.len()));
    let mut out = std::io::Cursor::new(head);
    out.set_position(start);
    PACKER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let packer = cell.get_or_insert_with(CCtx::create);
        packer
            .compress_using_cdict(&mut out, value, dictionary)
            .map_err(|code| broken("cannot compress a value", zstd_error(code)))
    })?;
    Ok(out.into_inner())
}

/// A value as it was given to [`pack`] (or as it was stored before values were packed).
/// A value packed with a store dictionary needs [`Dictionaries::unpack`].
pub fn unpack(stored: Vec<u8>) -> Result<Vec<u8>> {
    match stored.split_first() {
        Some((&format @ (ZSTD_DICTIONARY_1 | BARE_DICTIONARY_1), frame)) => {
            unpack_frame(format, frame, &DECODER_1)
        }
        Some((&(ZSTD_STORE_DICTIONARY | BARE_STORE_DICTIONARY), _)) => Err(broken(
            "a packed value",
            "packed with a store dictionary, read without the storage's dictionaries",
        )),
        _ => Ok(stored),
    }
}

/// A frame stored without its magic number, whole again.
fn with_magic(bare: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(FRAME_MAGIC.len() + bare.len());
    frame.extend_from_slice(&FRAME_MAGIC);
    frame.extend_from_slice(bare);
    frame
}

/// The value in `frame`, stored after format byte `format`: bare formats have their
/// magic number put back first.
fn unpack_frame(format: u8, frame: &[u8], dictionary: &DDict<'_>) -> Result<Vec<u8>> {
    let whole;
    let frame = if matches!(format, BARE_DICTIONARY_1 | BARE_STORE_DICTIONARY) {
        whole = with_magic(frame);
        &whole
    } else {
        frame
    };
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
    let mut out = Vec::with_capacity(capacity);
    UNPACKER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let unpacker = cell.get_or_insert_with(DCtx::create);
        unpacker
            .decompress_using_ddict(&mut out, frame, dictionary)
            .map_err(|code| broken("a damaged packed value", zstd_error(code)))
    })?;
    if out.len() != capacity {
        return Err(broken("a damaged packed value", "shorter than it says"));
    }
    Ok(out)
}

/// One of a store's dictionaries, ready to pack and unpack with.
pub struct StoreDictionary {
    pub number: i64,
    encoder: CDict<'static>,
    /// Made on the first payload packed with it: an instance that only reads never does.
    payload_encoder: std::sync::OnceLock<CDict<'static>>,
    content: Vec<u8>,
    decoder: DDict<'static>,
}

impl StoreDictionary {
    fn new(number: i64, content: &[u8]) -> Self {
        Self {
            number,
            encoder: CDict::create(content, LEVEL),
            payload_encoder: std::sync::OnceLock::new(),
            content: content.to_vec(),
            decoder: DDict::create(content),
        }
    }

    /// `value` as it is kept on disk, packed with this dictionary.
    pub fn pack(&self, value: &[u8]) -> Result<Vec<u8>> {
        self.pack_with_encoder(value, &self.encoder)
    }

    /// An event payload as it is kept on disk (see [`PAYLOAD_LEVEL`]).
    pub fn pack_payload(&self, value: &[u8]) -> Result<Vec<u8>> {
        let encoder = self
            .payload_encoder
            .get_or_init(|| CDict::create(&self.content, PAYLOAD_LEVEL));
        self.pack_with_encoder(value, encoder)
    }

    fn pack_with_encoder(&self, value: &[u8], encoder: &CDict<'_>) -> Result<Vec<u8>> {
        let mut head = vec![BARE_STORE_DICTIONARY];
        put_varint(&mut head, self.number)?;
        frame_after(head, value, encoder)
    }
}

/// Values shorter than this are packed with `dictionary-1.json` even where the store has
/// its own: a frame made with a large dictionary costs about 20 bytes more on a value
/// this small (an `opened` event: 18 bytes against 37), and has nothing to gain.
const SMALL: usize = 160;

/// `value` packed with `dictionary` when there is one, with `dictionary-1.json` if not.
pub fn pack_with(dictionary: Option<&StoreDictionary>, value: &[u8]) -> Result<Vec<u8>> {
    match dictionary {
        Some(dictionary) if value.len() >= SMALL => dictionary.pack(value),
        _ => pack(value),
    }
}

/// An event payload packed as [`pack_with`] does, at [`PAYLOAD_LEVEL`].
pub fn pack_payload_with(dictionary: Option<&StoreDictionary>, value: &[u8]) -> Result<Vec<u8>> {
    match dictionary {
        Some(dictionary) if value.len() >= SMALL => dictionary.pack_payload(value),
        _ => frame_after(vec![BARE_DICTIONARY_1], value, &PAYLOAD_ENCODER_1),
    }
}

/// The store dictionaries one storage knows: every one it has read values of, and each
/// store's current one, which its new values are packed with. Dictionaries are numbered
/// by their database, so each storage keeps its own.
///
/// A value names a dictionary that was committed before the value was; a storage that
/// has not read that dictionary yet (another instance made it, or it is an old one)
/// reads it first: every read of packed values calls [`Dictionaries::missing`] and
/// loads what it names before unpacking.
#[derive(Default)]
pub struct Dictionaries {
    known: RwLock<HashMap<i64, Arc<StoreDictionary>>>,
    current: RwLock<HashMap<StoreId, Arc<StoreDictionary>>>,
}

impl Dictionaries {
    /// Keeps a dictionary read from or written to the database.
    pub fn learn(&self, number: i64, content: &[u8]) -> Arc<StoreDictionary> {
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        known
            .entry(number)
            .or_insert_with(|| Arc::new(StoreDictionary::new(number, content)))
            .clone()
    }

    /// Keeps dictionary `number` as its row holds it (packed with `dictionary-1.json`);
    /// `None`: the row the value names is not there.
    pub fn learn_stored(
        &self,
        number: i64,
        stored: Option<Vec<u8>>,
    ) -> Result<Arc<StoreDictionary>> {
        let stored = stored
            .ok_or_else(|| StoreError::Internal(format!("store dictionary {number} is missing")))?;
        Ok(self.learn(number, &unpack(stored)?))
    }

    /// Dictionary `number`, if this storage has read it.
    pub fn known(&self, number: i64) -> Option<Arc<StoreDictionary>> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        known.get(&number).cloned()
    }

    /// Packs the store's new values with `dictionary` from now on.
    pub fn use_for(&self, store: StoreId, dictionary: Arc<StoreDictionary>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let newer = current
            .get(&store)
            .is_none_or(|was| was.number < dictionary.number);
        if newer {
            current.insert(store, dictionary);
        }
    }

    /// The dictionary the store's new values are packed with, if it has one yet.
    pub fn current(&self, store: StoreId) -> Option<Arc<StoreDictionary>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.get(&store).cloned()
    }

    /// The store dictionaries `values` were packed with that this storage has not read.
    pub fn missing<'a>(&self, values: impl IntoIterator<Item = &'a [u8]>) -> Vec<i64> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        let mut missing = Vec::new();
        for value in values {
            if let Some(number) = dictionary_of(value)
                && !known.contains_key(&number)
                && !missing.contains(&number)
            {
                missing.push(number);
            }
        }
        missing
    }

    /// A value as it was given to [`pack`] or [`StoreDictionary::pack`].
    pub fn unpack(&self, stored: Vec<u8>) -> Result<Vec<u8>> {
        let Some(number) = dictionary_of(&stored) else {
            return unpack(stored);
        };
        let dictionary = self.known(number).ok_or_else(|| {
            broken(
                "a packed value",
                format!("store dictionary {number} has not been read"),
            )
        })?;
        let frame = stored
            .get(1 + varint_len(&stored[1..])?..)
            .ok_or_else(|| broken("a damaged packed value", "no frame"))?;
        unpack_frame(stored[0], frame, &dictionary.decoder)
    }

    /// A packed value that holds text (JSON).
    pub fn unpack_text(&self, what: &str, stored: Vec<u8>) -> Result<String> {
        String::from_utf8(self.unpack(stored)?)
            .map_err(|e| broken(&format!("unreadable {what}"), e))
    }
}

/// The store dictionary a value was packed with, if any.
fn dictionary_of(value: &[u8]) -> Option<i64> {
    match value.split_first() {
        Some((&(ZSTD_STORE_DICTIONARY | BARE_STORE_DICTIONARY), rest)) => {
            read_varint(rest).map(|(n, _)| n)
        }
        _ => None,
    }
}

fn put_varint(out: &mut Vec<u8>, number: i64) -> Result<()> {
    let mut n = u64::try_from(number).map_err(|e| broken("a dictionary number", e))?;
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return Ok(());
        }
        out.push(low | 0x80);
    }
}

/// A varint and how many bytes it took.
fn read_varint(bytes: &[u8]) -> Option<(i64, usize)> {
    let mut n: u64 = 0;
    for (i, byte) in bytes.iter().enumerate().take(9) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return i64::try_from(n).ok().map(|n| (n, i + 1));
        }
    }
    None
}

fn varint_len(bytes: &[u8]) -> Result<usize> {
    read_varint(bytes)
        .map(|(_, len)| len)
        .ok_or_else(|| broken("a damaged packed value", "no dictionary number"))
}

/// When a store is given a new dictionary: its first once it has sold `first_after`
/// orders, a new one when it has sold `renew_after` more and its newest is older than
/// `renew_every` (a menu changes with the seasons, not by the hour; each dictionary is
/// kept for ever, about 12 KB packed).
///
/// `answer`: how the server answers an order write, given the order's document (see
/// [`AnswerOf`]); `None` keeps the documents as they are.
#[derive(Clone, Debug)]
pub struct Renewal {
    pub first_after: i64,
    pub renew_after: i64,
    pub renew_every: chrono::Duration,
    pub answer: Option<AnswerOf>,
}

/// The answer the server gives to a write of an order, from the order's document: the
/// document with what the server works out from it (totals, balance). A dictionary
/// made of a store's recent orders as answers packs the answers kept for retries as
/// well as the documents (which an answer holds whole): made of the documents alone, an
/// answer's totals found nothing to match and came out half as large again (348 bytes
/// against 236). `None` for a document the server cannot read.
pub type AnswerOf = fn(&[u8]) -> Option<Vec<u8>>;

/// How many of the recent orders a dictionary holds as answers: enough for the shape of
/// what an answer adds; the rest stay documents, more of which fit.
pub const RECENT_ANSWERS: usize = 2;

impl Renewal {
    /// What the dictionary holds of the recent orders (`documents`, oldest first): the
    /// newest [`RECENT_ANSWERS`] as answers if the rule says how to make them.
    pub fn samples_of(&self, mut documents: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let Some(answer) = self.answer else {
            return documents;
        };
        let newest = documents.len().saturating_sub(RECENT_ANSWERS);
        for document in &mut documents[newest..] {
            if let Some(rendered) = answer(document) {
                *document = rendered;
            }
        }
        documents
    }
}

impl Default for Renewal {
    fn default() -> Self {
        Self {
            first_after: 20,
            renew_after: 1000,
            renew_every: chrono::Duration::days(7),
            answer: None,
        }
    }
}

impl Renewal {
    /// Whether a store whose log has numbered `last_number` orders needs a new
    /// dictionary, given its newest (made at, last order it saw).
    pub fn due(
        &self,
        last_number: i64,
        newest: Option<(chrono::DateTime<chrono::Utc>, i64)>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        match newest {
            None => last_number >= self.first_after,
            Some((made_at, last_order)) => {
                last_number.saturating_sub(last_order) >= self.renew_after
                    && now - made_at >= self.renew_every
            }
        }
    }
}

/// How many recent orders and events a new store dictionary is made of.
pub const RECENT_ORDERS: i64 = 12;
pub const RECENT_EVENTS: i64 = 80;
/// The latest payloads of each kind a new dictionary holds: a three-line order adds
/// three lines, each of other products.
pub const SAMPLES_OF_A_KIND: usize = 3;

/// What a store's dictionary holds: `dictionary-1.json`, then `samples` (recent event
/// payloads), then `documents` (recent orders, newest last: zstd reaches what is near
/// the end of a dictionary for fewer bits), the oldest left out when they do not fit.
pub fn dictionary_content(samples: &[Vec<u8>], documents: &[Vec<u8>]) -> Vec<u8> {
    let mut content = DICTIONARY_1.to_vec();
    for sample in samples {
        if content.len() + sample.len() <= MAX_DICTIONARY / 3 {
            content.extend_from_slice(sample);
        }
    }
    let room = MAX_DICTIONARY.saturating_sub(content.len());
    let mut taken = 0;
    let mut first = documents.len();
    while first > 0 && taken + documents[first - 1].len() <= room {
        first -= 1;
        taken += documents[first].len();
    }
    for document in &documents[first..] {
        content.extend_from_slice(document);
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"id":"01a24f9f-d466-71e6-afba-7d2c08f46834","store_id":"01a24f9f-d3e0-771b-a05d-789136da3c9e","number":1,"kind":"counter","status":"paid","table_id":null,"lines":[{"id":"01a24f9f-d472-73d8-bc82-7cfbccb73e7a","name":"Prato 14","quantity":3,"unit_price":2900,"notes":"sem cebola"}]}"#;

    #[test]
    fn a_value_comes_back_as_it_was_given() {
        for value in ["", "{}", DOCUMENT, &DOCUMENT.repeat(50)] {
            let packed = pack(value.as_bytes()).expect("pack");
            assert_eq!(packed[0], BARE_DICTIONARY_1);
            assert_eq!(
                Dictionaries::default()
                    .unpack_text("value", packed)
                    .expect("unpack"),
                value
            );
        }
    }

    #[test]
    fn a_value_packed_with_its_frame_magic_is_still_read() {
        let (dictionaries, dictionary) = store_dictionary(301);
        let generic = whole_frame_after(vec![ZSTD_DICTIONARY_1], DOCUMENT.as_bytes(), &ENCODER_1)
            .expect("pack");
        let mut head = vec![ZSTD_STORE_DICTIONARY];
        put_varint(&mut head, 301).expect("varint");
        let own = whole_frame_after(head, DOCUMENT.as_bytes(), &dictionary.encoder).expect("pack");
        for (before, now) in [
            (generic, pack(DOCUMENT.as_bytes()).expect("pack")),
            (own, dictionary.pack(DOCUMENT.as_bytes()).expect("pack")),
        ] {
            assert_eq!(now.len() + FRAME_MAGIC.len(), before.len());
            assert_eq!(
                dictionaries.unpack_text("value", before).expect("unpack"),
                DOCUMENT
            );
        }
    }

    #[test]
    fn a_dictionary_holds_the_newest_orders_as_answers() {
        fn answer(document: &[u8]) -> Option<Vec<u8>> {
            let mut answer = document.strip_suffix(b"}")?.to_vec();
            answer.extend_from_slice(br#","totals":{"subtotal":8700,"tax":435,"total":9135}}"#);
            Some(answer)
        }
        let documents: Vec<Vec<u8>> = (0..4)
            .map(|n| format!("{{\"n\":{n}}}").into_bytes())
            .collect();
        let rule = Renewal {
            answer: Some(answer),
            ..Renewal::default()
        };
        let samples = rule.samples_of(documents.clone());
        assert_eq!(
            samples[..2],
            documents[..2],
            "the older ones stay documents"
        );
        for (sample, document) in samples[2..].iter().zip(&documents[2..]) {
            assert_eq!(Some(sample.clone()), answer(document));
        }
        assert_eq!(Renewal::default().samples_of(documents.clone()), documents);

        // An answer packs smaller with answers in the dictionary than with documents.
        let next = answer(DOCUMENT.as_bytes()).expect("answer");
        let of_documents = Dictionaries::default()
            .learn(1, &dictionary_content(&[], &[DOCUMENT.as_bytes().to_vec()]))
            .pack(&next)
            .expect("pack");
        let of_answers = Dictionaries::default()
            .learn(
                2,
                &dictionary_content(&[], &rule.samples_of(vec![DOCUMENT.as_bytes().to_vec()])),
            )
            .pack(&next)
            .expect("pack");
        assert!(
            of_answers.len() + 20 < of_documents.len(),
            "{} against {}",
            of_answers.len(),
            of_documents.len()
        );
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
        assert_eq!(
            Dictionaries::default()
                .unpack_text("value", stored)
                .expect("unpack"),
            DOCUMENT
        );
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

    fn store_dictionary(number: i64) -> (Dictionaries, Arc<StoreDictionary>) {
        let dictionaries = Dictionaries::default();
        let content = dictionary_content(&[], &[DOCUMENT.as_bytes().to_vec()]);
        let dictionary = dictionaries.learn(number, &content);
        (dictionaries, dictionary)
    }

    #[test]
    fn a_store_dictionary_packs_what_its_orders_share_smaller() {
        let (dictionaries, dictionary) = store_dictionary(300);
        // The next order of the store: the same menu, its own ids.
        let next = DOCUMENT.replace("7d2c08f46834", "7d2c08f46999");
        let generic = pack(next.as_bytes()).expect("pack");
        let own = dictionary.pack(next.as_bytes()).expect("pack");
        assert_eq!(own[0], BARE_STORE_DICTIONARY);
        assert!(
            own.len() * 2 < generic.len(),
            "{} against {}",
            own.len(),
            generic.len()
        );
        assert_eq!(
            dictionaries.unpack_text("value", own).expect("unpack"),
            next
        );
        // Values of the other formats read the same through the dictionaries.
        assert_eq!(
            dictionaries.unpack_text("value", generic).expect("unpack"),
            next
        );
        assert_eq!(
            dictionaries
                .unpack(DOCUMENT.as_bytes().to_vec())
                .expect("unpack"),
            DOCUMENT.as_bytes()
        );
    }

    #[test]
    fn a_value_names_the_dictionary_it_needs() {
        let (_, dictionary) = store_dictionary(70_000);
        let own = dictionary.pack(DOCUMENT.as_bytes()).expect("pack");
        let stranger = Dictionaries::default();
        assert_eq!(
            stranger.missing([own.as_slice(), own.as_slice()]),
            vec![70_000]
        );
        assert!(stranger.unpack(own.clone()).is_err());
        assert!(unpack(own.clone()).is_err());
        stranger.learn(
            70_000,
            &dictionary_content(&[], &[DOCUMENT.as_bytes().to_vec()]),
        );
        assert!(stranger.missing([own.as_slice()]).is_empty());
        assert_eq!(
            stranger.unpack_text("value", own).expect("unpack"),
            DOCUMENT
        );
    }

    #[test]
    fn a_damaged_store_value_is_an_error_not_a_panic() {
        let (dictionaries, dictionary) = store_dictionary(5);
        let mut own = dictionary.pack(DOCUMENT.as_bytes()).expect("pack");
        own.truncate(own.len() / 2);
        assert!(dictionaries.unpack(own).is_err());
        assert!(dictionaries.unpack(vec![ZSTD_STORE_DICTIONARY]).is_err());
        assert!(
            dictionaries
                .unpack(vec![ZSTD_STORE_DICTIONARY, 0xff, 0xff])
                .is_err()
        );
        assert!(dictionaries.unpack(vec![ZSTD_STORE_DICTIONARY, 5]).is_err());
    }

    #[test]
    fn a_store_keeps_packing_with_its_newest_dictionary() {
        let dictionaries = Dictionaries::default();
        let store = StoreId::new();
        let older = dictionaries.learn(1, b"older");
        let newer = dictionaries.learn(2, b"newer");
        dictionaries.use_for(store, newer);
        dictionaries.use_for(store, older);
        assert_eq!(dictionaries.current(store).map(|d| d.number), Some(2));
        assert!(dictionaries.current(StoreId::new()).is_none());
    }

    #[test]
    fn the_newest_orders_are_kept_when_they_do_not_all_fit() {
        let big = |c: u8| vec![c; MAX_DICTIONARY / 3];
        let content = dictionary_content(&[b"sample".to_vec()], &[big(b'a'), big(b'b'), big(b'c')]);
        assert!(content.len() <= MAX_DICTIONARY);
        assert!(content.starts_with(DICTIONARY_1));
        assert!(content.ends_with(&big(b'c')));
        assert!(!content.windows(100).any(|w| w == [b'a'; 100]));
        assert!(content.windows(100).any(|w| w == [b'b'; 100]));
    }

    #[test]
    fn renewal_waits_for_enough_orders_and_enough_time() {
        let rule = Renewal::default();
        let now = chrono::Utc::now();
        assert!(!rule.due(19, None, now));
        assert!(rule.due(20, None, now));
        let week_ago = now - chrono::Duration::days(8);
        assert!(!rule.due(500, Some((week_ago, 20)), now));
        assert!(rule.due(1020, Some((week_ago, 20)), now));
        assert!(!rule.due(5000, Some((now, 20)), now));
    }
}
