//! Fuzz body `decode`: any bytes.
//!
//! The decoder never panics and never hangs. When it accepts the input:
//! * strict decoding succeeds exactly when lenient decoding found no irregularity, and otherwise
//!   fails on the first irregularity lenient decoding recorded;
//! * a decoded module always encodes (it holds nothing the format cannot represent);
//! * the encoding is canonical, no longer than the input, decodes strictly to the same model, and
//!   encodes to itself again;
//! * the read-only views (dump, paths, Display) never panic;
//! * `decode_with_spans` (which reads every qstr and object with the general decoders, where
//!   plain decoding takes a short path for the canonical ones) agrees with lenient decoding, and
//!   its spans are in file order without overlap; on success they tile the input from 0 up to any trailing bytes.
//!
//! Shared by `fuzz/fuzz_targets/decode.rs` and `tests/fuzz_replay.rs`.

use mpy_codec::{DecodeOptions, ErrorKind, IrregularityKind, Module};

const LENIENT: DecodeOptions = DecodeOptions { strict: false };
const STRICT: DecodeOptions = DecodeOptions { strict: true };

pub fn run(data: &[u8]) {
    spans(data);
    let strict = Module::decode_with(data, STRICT);
    let decoded = match Module::decode_with(data, LENIENT) {
        Ok(decoded) => decoded,
        Err(e) => {
            assert!(
                e.offset <= data.len(),
                "error offset {} past the input ({} bytes): {e}",
                e.offset,
                data.len()
            );
            // Strict decoding fails too: at the same place, or earlier on an irregularity.
            let strict = strict.expect_err("strict decoding accepted what lenient decoding refused");
            if strict != e {
                assert!(
                    matches!(strict.kind, ErrorKind::Irregular(_)) && strict.offset <= e.offset,
                    "strict decoding fails differently: {strict} / lenient: {e}"
                );
            }
            let _ = e.to_string();
            return;
        }
    };
    let module = &decoded.module;
    assert_eq!(Module::decode(data).as_ref(), Ok(module), "Module::decode differs from decode_with(lenient)");
    for irregularity in &decoded.irregularities {
        assert!(irregularity.offset <= data.len(), "irregularity past the input: {irregularity}");
        let _ = irregularity.to_string();
    }
    match (&strict, decoded.irregularities.first()) {
        (Ok(s), None) => {
            assert!(s.is_canonical());
            assert_eq!(&s.module, module, "strict and lenient decoding give different models");
        }
        (Err(e), Some(first)) => {
            assert_eq!(e.kind, ErrorKind::Irregular(first.kind.clone()), "strict mode failed elsewhere");
            assert_eq!((e.offset, &e.path), (first.offset, &first.path), "strict mode failed elsewhere");
        }
        (Ok(_), Some(first)) => panic!("strict decoding accepted an input with an irregularity: {first}"),
        (Err(e), None) => panic!("strict decoding refused a canonical input: {e}"),
    }

    let bytes = match module.encode() {
        Ok(bytes) => bytes,
        Err(e) => panic!("a decoded module does not encode: {e}"),
    };
    assert!(bytes.len() <= data.len(), "canonical encoding ({} bytes) longer than the input", bytes.len());
    if decoded.is_canonical() {
        assert!(bytes == data, "canonical input does not re-encode byte for byte");
    } else {
        assert!(bytes != data, "input with irregularities re-encodes byte for byte");
    }
    let again = match Module::decode_with(&bytes, STRICT) {
        Ok(again) => again,
        Err(e) => panic!("the encoder's output does not decode strictly: {e}"),
    };
    assert!(again.is_canonical());
    assert_eq!(&again.module, module, "decode(encode(decode(x))) != decode(x)");
    assert_eq!(again.module.encode().as_ref(), Ok(&bytes), "encoding is not idempotent");

    // Read-only views.
    let _ = mpy_codec::dump::tree(module);
    let _ = module.header.loadable_by();
    let _ = module.source_name().map(|q| q.lossy());
    assert_eq!(module.raw_codes().len(), module.raw_code.count());
    for q in &module.qstrs {
        let _ = q.to_string();
    }
    for obj in &module.objects {
        let _ = (obj.to_string(), obj.int_value(), obj.float_value(), obj.complex_value());
    }
    for (path, rc) in module.raw_codes() {
        let _ = (path.to_string(), rc.kind.name(), rc.kind.effective_flags());
    }
    assert_eq!(module.clone().into_owned(), *module);
}

/// `Module::decode_with_spans`: same outcome as lenient decoding; spans in order, inside the input,
/// and, on success, covering every byte the decoder read.
fn spans(data: &[u8]) {
    let (result, spans) = Module::decode_with_spans(data);
    assert_eq!(result, Module::decode_with(data, LENIENT), "decode_with_spans differs from lenient decoding");
    let mut end = 0;
    for span in &spans {
        assert!(span.start <= span.end && span.end <= data.len(), "span outside the input: {span:?}");
        assert!(span.start >= end, "spans out of order or overlapping at {span:?}");
        if result.is_ok() {
            assert_eq!(span.start, end, "bytes {end}..{} read but in no span", span.start);
        }
        end = span.end;
    }
    if let Ok(decoded) = &result {
        let trailing = decoded
            .irregularities
            .iter()
            .find_map(|i| match i.kind {
                IrregularityKind::TrailingBytes { count } => Some(count),
                _ => None,
            })
            .unwrap_or(0);
        assert_eq!(end, data.len() - trailing, "the spans stop before the end of the decoded input");
    }
}
