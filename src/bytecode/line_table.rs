//! The line-number table: (bytes to skip, lines to skip) steps from code offset 0 and line 1, each
//! in a 1-byte short form (`0LLBBBBB`) or 2-byte long form (`1LLLBBBB LLLLLLLL`). Entries keep
//! their form, so re-encoding is exact.

use super::error::{BytecodeEncodeError, BytecodeError, BytecodeErrorKind};

/// Which of the two encodings an entry uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum LineForm {
    /// One byte: up to 31 bytes and 3 lines.
    Short,
    /// Two bytes: up to 15 bytes and 2047 lines.
    Long,
}

impl LineForm {
    /// Largest byte skip the form holds.
    pub const fn max_bytes(self) -> u32 {
        match self {
            LineForm::Short => 0x1f,
            LineForm::Long => 0xf,
        }
    }

    /// Largest line skip the form holds.
    pub const fn max_lines(self) -> u32 {
        match self {
            LineForm::Short => 0x3,
            LineForm::Long => 0x7ff,
        }
    }

    /// Encoded length.
    pub const fn byte_len(self) -> usize {
        match self {
            LineForm::Short => 1,
            LineForm::Long => 2,
        }
    }
}

/// One step of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LineEntry {
    /// Code bytes to skip.
    pub bytes: u32,
    /// Lines to add.
    pub lines: u32,
    /// The encoding.
    pub form: LineForm,
}

impl LineEntry {
    fn fits(&self) -> bool {
        self.bytes <= self.form.max_bytes() && self.lines <= self.form.max_lines()
    }
}

/// The decoded table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LineTable {
    /// The steps, in order.
    pub entries: Vec<LineEntry>,
}

impl LineTable {
    /// Decodes `bytes` (all of the line info), which start at `base` inside `fun_data`. A long
    /// entry cut off by the end of the source-info section is an error.
    pub fn decode(bytes: &[u8], base: usize) -> Result<LineTable, BytecodeError> {
        let mut entries = Vec::with_capacity(bytes.len());
        for entry in LineEntries::new(bytes, base) {
            entries.push(entry?);
        }
        Ok(LineTable { entries })
    }

    /// Checks that `bytes` decode as a line table (what [`LineTable::decode`] would return as its
    /// error) without building it.
    ///
    /// The only error is a long entry (first byte `1xxxxxxx`) whose second byte is missing, and
    /// only the bytes from the last one below 0x80 matter: that byte ends an entry whether it is a
    /// short entry or the second byte of a long one, so an entry starts right after it, and the
    /// bytes from there to the end, all at least 0x80, pair up into long entries. An odd count
    /// leaves the last one cut off.
    pub fn validate(bytes: &[u8], base: usize) -> Result<(), BytecodeError> {
        let tail = match bytes.iter().rposition(|&b| b & 0x80 == 0) {
            Some(i) => bytes.len() - i - 1,
            None => bytes.len(),
        };
        if tail % 2 == 0 {
            return Ok(());
        }
        Err(BytecodeError::new(
            BytecodeErrorKind::UnexpectedEnd { what: "line-number entry" },
            base + bytes.len() - 1,
        ))
    }

    /// Encoded length.
    pub fn encoded_len(&self) -> usize {
        self.entries.iter().map(|e| e.form.byte_len()).sum()
    }

    /// Encodes the entries as they are; an entry whose values exceed its form is an error.
    pub fn encode(&self) -> Result<Vec<u8>, BytecodeEncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        for (index, e) in self.entries.iter().enumerate() {
            if !e.fits() {
                return Err(BytecodeEncodeError::LineEntryOutOfRange { index });
            }
            match e.form {
                LineForm::Short => out.push((e.bytes | e.lines << 5) as u8),
                LineForm::Long => {
                    out.push(0x80 | e.bytes as u8 | ((e.lines >> 4) & 0x70) as u8);
                    out.push(e.lines as u8);
                }
            }
        }
        Ok(out)
    }

    /// The source line of the instruction at `code_offset` (`mp_bytecode_get_source_line`: walk the
    /// entries while the offset is at least the bytes to skip).
    pub fn line_at(&self, code_offset: u64) -> u64 {
        let mut left = code_offset;
        let mut line = 1u64;
        for e in &self.entries {
            let b = u64::from(e.bytes);
            if left >= b {
                left -= b;
                line += u64::from(e.lines);
            } else {
                break;
            }
        }
        line
    }

    /// The (code offset, line) points where the line changes, in order: an entry applies to every
    /// offset from the sum of the byte skips up to and including it.
    pub fn points(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (mut offset, mut line) = (0u64, 1u64);
        for e in &self.entries {
            offset += u64::from(e.bytes);
            line += u64::from(e.lines);
            if e.lines > 0 {
                out.push((offset, line));
            }
        }
        out
    }

    /// Appends entries for one step the way py/emitbc.c does (`emit_write_code_info_bytes_lines`):
    /// the short form unless more than 6 lines and at most 15 bytes are to be skipped; bytes are
    /// skipped before lines.
    pub fn push_step(&mut self, mut bytes: u64, mut lines: u64) {
        while bytes > 0 || lines > 0 {
            let (b, l, form) = if lines <= 6 || bytes > 0xf {
                let b = bytes.min(0x1f);
                let l = if b < bytes { 0 } else { lines.min(0x3) };
                (b, l, LineForm::Short)
            } else {
                (bytes.min(0xf), lines.min(0x7ff), LineForm::Long)
            };
            self.entries.push(LineEntry { bytes: b as u32, lines: l as u32, form });
            bytes -= b;
            lines -= l;
        }
    }

    /// Moves the table's code positions through `remap` (old code offset → new, monotone).
    ///
    /// The entries are taken in groups: entries that skip bytes but no lines, then the entry that
    /// adds lines (this is how py/emitbc.c splits a step that skips more bytes than one entry holds,
    /// and only a group's end matters to the lookup). A group whose byte total is unchanged is kept
    /// as it is; otherwise it is rewritten as byte-only short entries of up to 31 bytes followed by
    /// the line entry in its original form, which is exactly what emitbc writes for a step of that
    /// size, so growing and shrinking back restores the original bytes.
    pub(crate) fn remapped(&self, remap: impl Fn(i64) -> i64) -> LineTable {
        let mut out = LineTable { entries: Vec::with_capacity(self.entries.len()) };
        let mut old = 0i64;
        // The table always starts at code offset 0, wherever the first instruction went.
        let mut prev_new = 0i64;
        let mut group_start = 0;
        for (k, e) in self.entries.iter().enumerate() {
            old += i64::from(e.bytes);
            let last = k + 1 == self.entries.len();
            if e.lines == 0 && !last {
                continue;
            }
            let group = &self.entries[group_start..=k];
            group_start = k + 1;
            let new = remap(old).max(prev_new);
            let bytes = (new - prev_new) as u64;
            prev_new = new;
            let old_bytes: u64 = group.iter().map(|g| u64::from(g.bytes)).sum();
            if bytes == old_bytes {
                out.entries.extend_from_slice(group);
                continue;
            }
            let mut left = bytes;
            while left > u64::from(e.form.max_bytes()) {
                let chunk = left.min(0x1f);
                out.entries.push(LineEntry { bytes: chunk as u32, lines: 0, form: LineForm::Short });
                left -= chunk;
            }
            out.entries.push(LineEntry { bytes: left as u32, ..*e });
        }
        out
    }
}

/// The entries of an encoded line table, read in place; after an error it yields nothing more.
pub(crate) struct LineEntries<'a> {
    bytes: &'a [u8],
    base: usize,
    pos: usize,
}

impl<'a> LineEntries<'a> {
    /// Entries of `bytes`, which start at `base` inside `fun_data`.
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        LineEntries { bytes, base, pos: 0 }
    }
}

impl Iterator for LineEntries<'_> {
    type Item = Result<LineEntry, BytecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.pos;
        let c = *self.bytes.get(i)?;
        if c & 0x80 == 0 {
            self.pos += 1;
            return Some(Ok(LineEntry {
                bytes: u32::from(c & 0x1f),
                lines: u32::from(c >> 5),
                form: LineForm::Short,
            }));
        }
        let Some(&c1) = self.bytes.get(i + 1) else {
            self.pos = self.bytes.len();
            return Some(Err(BytecodeError::new(
                BytecodeErrorKind::UnexpectedEnd { what: "line-number entry" },
                self.base + i,
            )));
        };
        self.pos += 2;
        Some(Ok(LineEntry {
            bytes: u32::from(c & 0xf),
            lines: (u32::from(c & 0x70) << 4) | u32::from(c1),
            form: LineForm::Long,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_forms() {
        // mpy-format.md §2.4: `23 68 20 69 26 26`; and long forms.
        type Case = (&'static [u8], &'static [(u32, u32, LineForm)]);
        let cases: &[Case] = &[
            (
                &[0x23, 0x68, 0x20, 0x69, 0x26, 0x26],
                &[
                    (3, 1, LineForm::Short),
                    (8, 3, LineForm::Short),
                    (0, 1, LineForm::Short),
                    (9, 3, LineForm::Short),
                    (6, 1, LineForm::Short),
                    (6, 1, LineForm::Short),
                ],
            ),
            (&[0x80, 0x07], &[(0, 7, LineForm::Long)]),
            (&[0xf5, 0xff, 0x1f], &[(5, 0x7ff, LineForm::Long), (31, 0, LineForm::Short)]),
            (&[], &[]),
        ];
        for &(bytes, want) in cases {
            let t = LineTable::decode(bytes, 0).unwrap();
            let got: Vec<_> = t.entries.iter().map(|e| (e.bytes, e.lines, e.form)).collect();
            assert_eq!(got, want);
            assert_eq!(t.encode().unwrap(), bytes);
            assert_eq!(t.encoded_len(), bytes.len());
        }
        let e = LineTable::decode(&[0x21, 0x90], 7).unwrap_err();
        assert_eq!(e.offset, 8);
    }

    /// `validate` fails exactly where `decode` does (same error, same offset), over every table of
    /// up to six bytes drawn from short, long-first and second-byte values.
    #[test]
    fn validate_agrees_with_decode() {
        let alphabet = [0x00u8, 0x23, 0x7f, 0x80, 0x85, 0xff];
        let mut tables: Vec<Vec<u8>> = vec![vec![]];
        let mut errors = 0;
        for _ in 0..6 {
            let longer: Vec<Vec<u8>> = tables
                .iter()
                .filter(|t| t.len() == tables.last().map_or(0, Vec::len))
                .flat_map(|t| alphabet.iter().map(move |&b| [t.as_slice(), &[b]].concat()))
                .collect();
            tables.extend(longer);
        }
        assert_eq!(tables.len(), (0..=6).map(|n| alphabet.len().pow(n)).sum::<usize>());
        for t in &tables {
            let want = LineTable::decode(t, 9).map(drop);
            errors += usize::from(want.is_err());
            assert_eq!(LineTable::validate(t, 9), want, "{t:02x?}");
        }
        assert!(errors > 1000, "{errors}");
    }

    #[test]
    fn lookup() {
        let t = LineTable::decode(&[0x23, 0x68, 0x20, 0x69, 0x26, 0x26], 0).unwrap();
        // offset → line
        for (offset, line) in
            [(0, 1), (2, 1), (3, 2), (10, 2), (11, 6), (19, 6), (20, 9), (26, 10), (32, 11), (1000, 11)]
        {
            assert_eq!(t.line_at(offset), line, "offset {offset}");
        }
        assert_eq!(t.points(), [(3, 2), (11, 5), (11, 6), (20, 9), (26, 10), (32, 11)]);
        assert_eq!(LineTable::default().line_at(5), 1);
    }

    #[test]
    fn emitbc_steps() {
        // (bytes, lines) → encoding
        let cases: &[(u64, u64, &[u8])] = &[
            (3, 1, &[0x23]),
            (0, 7, &[0x80, 0x07]),
            (5, 6, &[0x65, 0x60]),
            (40, 2, &[0x1f, 0x49]),
            (16, 7, &[0x70, 0x60, 0x20]),
            (2, 3000, &[0xf2, 0xff, 0xb0, 0xb9]),
        ];
        for &(b, l, bytes) in cases {
            let mut t = LineTable::default();
            t.push_step(b, l);
            assert_eq!(t.encode().unwrap(), bytes, "({b}, {l})");
            let total_b: u64 = t.entries.iter().map(|e| u64::from(e.bytes)).sum();
            let total_l: u64 = t.entries.iter().map(|e| u64::from(e.lines)).sum();
            assert_eq!((total_b, total_l), (b, l));
        }
    }

    #[test]
    fn out_of_range_entries_are_encode_errors() {
        let t = LineTable { entries: vec![LineEntry { bytes: 16, lines: 0, form: LineForm::Long }] };
        assert_eq!(t.encode(), Err(BytecodeEncodeError::LineEntryOutOfRange { index: 0 }));
    }

    #[test]
    fn remapping() {
        let t = LineTable::decode(&[0x23, 0x68, 0x20, 0x69], 0).unwrap();
        // Identity keeps the bytes.
        assert_eq!(t.remapped(|o| o), t);
        // Everything after offset 5 moves 30 bytes later: (8,3) becomes 38 bytes, split.
        let moved = t.remapped(|o| if o > 5 { o + 30 } else { o });
        assert_eq!(moved.encode().unwrap(), [0x23, 0x1f, 0x67, 0x20, 0x69]);
        assert_eq!(moved.line_at(41), 6);
        assert_eq!(moved.line_at(40), 2);
        // And back.
        assert_eq!(moved.remapped(|o| if o > 35 { o - 30 } else { o.min(5) }), t);
        // Growing a long-form entry past 15 bytes puts byte-only entries first.
        let long = LineTable::decode(&[0x85, 0x07], 0).unwrap();
        let grown = long.remapped(|o| o * 4);
        assert_eq!(grown.encode().unwrap(), [0x14, 0x80, 0x07]);
        assert_eq!(grown.remapped(|o| o / 4), long);
    }
}
