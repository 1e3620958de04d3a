//! A lazy, borrowing view of a .mpy file: the whole file checked up front, nothing built.
//!
//! [`Module`](crate::Module) is a tree: a node per qstr, object and raw code, which costs about the
//! size of the file on real files but up to 64 bytes of model per input byte on hostile ones (a
//! file of one-byte raw codes; more when decoding leniently records an irregularity per entry).
//! [`parse`] runs the same decoders over the whole file with the same rules and reports the same
//! [`Error`] (kind, offset and path) as [`Module::decode`](crate::Module::decode), but keeps only
//! what the current nesting needs: its memory is bounded by
//! [`MAX_RAW_CODE_DEPTH`](crate::limits::MAX_RAW_CODE_DEPTH) and
//! [`MAX_TUPLE_DEPTH`](crate::limits::MAX_TUPLE_DEPTH), whatever the size of the file.
//! Irregularities are counted, and the first one is kept.
//!
//! The accessors then decode items on demand from the checked bytes, each with the decoder the tree
//! uses: [`ModuleView::qstrs`] and [`ModuleView::objects`] iterate the tables, [`ModuleView::raw_code`]
//! is the outer raw code as a [`RawCodeView`] (kind, `fun_data`, children, relocation ops), and
//! [`ModuleView::walk`] visits every raw code, parents first, in one pass. Only an object that is
//! a tuple allocates (its items).
//!
//! ```
//! let bytes = include_bytes!("../corpus/doc/hello.mpy");
//! let view = mpy_codec::view::parse(bytes)?;
//! assert_eq!(view.source_name().unwrap().lossy(), "hello.py");
//! assert_eq!(view.qstrs().len(), view.n_qstrs());
//! let mut functions = 0;
//! view.walk(|path, rc| {
//!     functions += 1;
//!     println!("{path}: {} ({} bytes)", rc.kind().name(), rc.fun_data().len());
//! });
//! assert_eq!(functions, mpy_codec::decode(bytes)?.raw_code.count());
//! # Ok::<(), mpy_codec::Error>(())
//! ```

use std::iter::FusedIterator;

use crate::decoder::{DResult, DecodeOptions, Decoder};
use crate::error::{Error, Irregularity, IrregularityKind, Path, Segment};
use crate::flags::NativeFlags;
use crate::header::Header;
use crate::object::{self, Object};
use crate::qstr::Qstr;
use crate::raw_code::{self, Kind, RawCode};
use crate::reloc::{self, RelocOp};

/// Checks a whole file, accepting what MicroPython's loader accepts (what
/// [`Module::decode`](crate::Module::decode) accepts), and returns a view of it.
pub fn parse(bytes: &[u8]) -> Result<ModuleView<'_>, Error> {
    ModuleView::new(bytes)
}

/// A checked .mpy file, decoded on demand. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ModuleView<'a> {
    bytes: &'a [u8],
    header: Header,
    n_qstrs: usize,
    qstrs_at: usize,
    n_objects: usize,
    objects_at: usize,
    raw_code: RawCodeView<'a>,
    end: usize,
    irregularity_count: usize,
    first_irregularity: Option<Irregularity>,
}

impl<'a> ModuleView<'a> {
    /// Checks a whole file leniently ([`parse`]).
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::with_options(bytes, DecodeOptions::default())
    }

    /// Checks a whole file with options: accepts and rejects exactly what
    /// [`Module::decode_with`](crate::Module::decode_with) does, with the same error.
    pub fn with_options(bytes: &'a [u8], options: DecodeOptions) -> Result<Self, Error> {
        let mut d = Decoder::new(bytes, options);
        d.keep_irregularities = 1;
        // The order of `Module::decode`: header, both counts, qstrs, objects, raw code, trailer.
        let (i, header) = Header::decode(&mut d, bytes)?;
        let (i, n_qstrs) = d.within(Segment::Field("qstrs"), |d| d.count(i, "n_qstr"))?;
        let (i, n_objects) = d.within(Segment::Field("objects"), |d| d.count(i, "n_obj"))?;
        let qstrs_at = d.offset(i);
        let (i, ()) = d.within(Segment::Field("qstrs"), |d| {
            d.each(i, n_qstrs, Segment::Index, |d, i| Qstr::decode(d, i).map(|(rest, _)| (rest, ())))
        })?;
        let objects_at = d.offset(i);
        let (i, ()) = d.within(Segment::Field("objects"), |d| {
            d.each(i, n_objects, Segment::Index, |d, i| check_object(d, i, 0))
        })?;
        let (i, raw_code) = d.within(Segment::Field("raw_code"), |d| walk(d, i, 0, &mut |_, _| {}))?;
        let end = d.offset(i);
        if !i.is_empty() {
            d.irregular(i, IrregularityKind::TrailingBytes { count: i.len() })?;
        }
        Ok(ModuleView {
            bytes,
            header,
            n_qstrs,
            qstrs_at,
            n_objects,
            objects_at,
            raw_code,
            end,
            irregularity_count: d.irregularity_count,
            first_irregularity: d.irregularities.pop(),
        })
    }

    /// The whole input.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The number of qstrs in the table.
    pub fn n_qstrs(&self) -> usize {
        self.n_qstrs
    }

    /// The qstr table, decoded one entry at a time.
    pub fn qstrs(&self) -> Qstrs<'a> {
        Qstrs { whole: self.bytes, at: self.qstrs_at, left: self.n_qstrs }
    }

    /// The source file name (qstr 0, by convention), if there is one.
    pub fn source_name(&self) -> Option<Qstr<'a>> {
        self.qstrs().next()
    }

    /// The number of objects in the constant table.
    pub fn n_objects(&self) -> usize {
        self.n_objects
    }

    /// The constant object table, decoded one object at a time (a tuple with its items).
    pub fn objects(&self) -> Objects<'a> {
        Objects { whole: self.bytes, at: self.objects_at, left: self.n_objects }
    }

    /// The outer (module-level) raw code.
    pub fn raw_code(&self) -> &RawCodeView<'a> {
        &self.raw_code
    }

    /// Visits every raw code with its path (`raw_code.children[1].children[0]`), parents before
    /// children, in one pass over the tree (like [`Module::raw_codes`](crate::Module::raw_codes)).
    pub fn walk(&self, mut f: impl FnMut(&Path, &RawCodeView<'a>)) {
        let mut d = quiet(self.bytes);
        d.path.push(Segment::Field("raw_code"));
        let _ = walk(&mut d, &self.bytes[self.raw_code.offset..], 0, &mut f);
    }

    /// The bytes after the outer raw code (the loader never reads them).
    pub fn trailing_bytes(&self) -> &'a [u8] {
        &self.bytes[self.end..]
    }

    /// How many irregularities the file has (see [`crate::Decoded::irregularities`]).
    pub fn irregularity_count(&self) -> usize {
        self.irregularity_count
    }

    /// The first irregularity in file order, if any.
    pub fn first_irregularity(&self) -> Option<&Irregularity> {
        self.first_irregularity.as_ref()
    }

    /// True when `encode(decode(x)) == x` is guaranteed.
    pub fn is_canonical(&self) -> bool {
        self.irregularity_count == 0
    }
}

/// One raw code of a checked file: its own fields, decoded; its children and relocation ops,
/// decoded on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCodeView<'a> {
    whole: &'a [u8],
    offset: usize,
    depth: usize,
    kind: Kind<'a>,
    fun_data: &'a [u8],
    flags: NativeFlags,
    n_children: usize,
    children_at: usize,
}

impl<'a> RawCodeView<'a> {
    /// The byte offset of its `kind_len`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Nesting depth: 0 for the outer raw code.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The kind and its native fields. The relocation ops of a viper or asm record are left out
    /// (`relocs: None`): they come from [`RawCodeView::relocs`].
    pub fn kind(&self) -> &Kind<'a> {
        &self.kind
    }

    /// Bytecode (prelude, names, line table, cells, opcodes) or machine code.
    pub fn fun_data(&self) -> &'a [u8] {
        self.fun_data
    }

    /// The native record's flags as written (`RELOC` included), empty for bytecode and `@native`.
    pub fn flags(&self) -> NativeFlags {
        self.flags
    }

    pub fn n_children(&self) -> usize {
        self.n_children
    }

    /// The children, in order. Stepping past a child skips its whole subtree, so iterating the
    /// children of every raw code costs up to the tree's depth times the file; [`ModuleView::walk`]
    /// visits everything in one pass.
    pub fn children(&self) -> Children<'a> {
        Children {
            whole: self.whole,
            at: self.children_at,
            depth: self.depth + 1,
            left: self.n_children,
            skip_first: false,
        }
    }

    /// The relocation op stream of a viper or asm record with the `RELOC` flag, decoded one op at a
    /// time. It follows the children in the file, so finding it skips them.
    pub fn relocs(&self) -> Option<Relocs<'a>> {
        if !self.flags.contains(NativeFlags::RELOC) {
            return None;
        }
        let mut d = quiet(self.whole);
        let skipped = d.each(&self.whole[self.children_at..], self.n_children, Segment::Child, |d, i| {
            walk(d, i, self.depth + 1, &mut |_, _| {}).map(|(rest, _)| (rest, ()))
        });
        let (at, done) = match skipped {
            Ok((rest, ())) => (d.offset(rest), false),
            Err(_) => (self.whole.len(), true),
        };
        Some(Relocs { whole: self.whole, at, index: 0, done })
    }
}

/// The qstr table of a [`ModuleView`].
#[derive(Debug, Clone)]
pub struct Qstrs<'a> {
    whole: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Iterator for Qstrs<'a> {
    type Item = Qstr<'a>;

    fn next(&mut self) -> Option<Qstr<'a>> {
        let (rest, qstr) = step(self.whole, &mut self.left, |d| Qstr::decode(d, &self.whole[self.at..]))?;
        self.at = self.whole.len() - rest.len();
        Some(qstr)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Qstrs<'_> {}
impl FusedIterator for Qstrs<'_> {}

/// The object table of a [`ModuleView`].
#[derive(Debug, Clone)]
pub struct Objects<'a> {
    whole: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Iterator for Objects<'a> {
    type Item = Object<'a>;

    fn next(&mut self) -> Option<Object<'a>> {
        let (rest, obj) = step(self.whole, &mut self.left, |d| Object::decode(d, &self.whole[self.at..], 0))?;
        self.at = self.whole.len() - rest.len();
        Some(obj)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Objects<'_> {}
impl FusedIterator for Objects<'_> {}

/// The children of a [`RawCodeView`].
#[derive(Debug, Clone)]
pub struct Children<'a> {
    whole: &'a [u8],
    /// Where the next child starts, or (with `skip_first`) the child last returned.
    at: usize,
    depth: usize,
    left: usize,
    skip_first: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = RawCodeView<'a>;

    fn next(&mut self) -> Option<RawCodeView<'a>> {
        let (whole, depth, skip_first) = (self.whole, self.depth, self.skip_first);
        let mut at = self.at;
        let (_, child) = step(whole, &mut self.left, |d| {
            if skip_first {
                let (rest, _) = walk(d, &whole[at..], depth, &mut |_, _| {})?;
                at = d.offset(rest);
            }
            let (rest, head) = RawCode::decode_head(d, &whole[at..], depth)?;
            Ok((rest, RawCodeView::new(whole, at, depth, d.offset(rest), head)))
        })?;
        (self.at, self.skip_first) = (at, true);
        Some(child)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Children<'_> {}
impl FusedIterator for Children<'_> {}

/// The relocation ops of a [`RawCodeView`].
#[derive(Debug, Clone)]
pub struct Relocs<'a> {
    whole: &'a [u8],
    at: usize,
    index: usize,
    done: bool,
}

impl Iterator for Relocs<'_> {
    type Item = RelocOp;

    fn next(&mut self) -> Option<RelocOp> {
        if self.done {
            return None;
        }
        let mut d = quiet(self.whole);
        match reloc::decode_next(&mut d, &self.whole[self.at..], self.index) {
            Ok((rest, Some(op))) => {
                self.at = d.offset(rest);
                self.index += 1;
                Some(op)
            }
            // The terminator (or, were the bytes not the ones checked, an error).
            _ => {
                self.done = true;
                None
            }
        }
    }
}

impl FusedIterator for Relocs<'_> {}

impl<'a> RawCodeView<'a> {
    fn new(
        whole: &'a [u8],
        offset: usize,
        depth: usize,
        children_at: usize,
        head: raw_code::Head<'a>,
    ) -> Self {
        let raw_code::Head { kind, fun_data, flags, n_children } = head;
        RawCodeView { whole, offset, depth, kind, fun_data, flags, n_children, children_at }
    }
}

/// A decoder for bytes already checked: lenient, keeping no irregularities.
fn quiet(whole: &[u8]) -> Decoder<'_> {
    let mut d = Decoder::new(whole, DecodeOptions::default());
    d.keep_irregularities = 0;
    d
}

/// One step of an iterator over checked bytes: decodes the next item with a [`quiet`] decoder
/// while `left` is not 0. Decoding what was checked cannot fail; were it to, the iterator ends.
fn step<'a, T>(
    whole: &'a [u8],
    left: &mut usize,
    decode: impl FnOnce(&mut Decoder<'a>) -> DResult<'a, T>,
) -> Option<(&'a [u8], T)> {
    if *left == 0 {
        return None;
    }
    match decode(&mut quiet(whole)) {
        Ok(out) => {
            *left -= 1;
            Some(out)
        }
        Err(_) => {
            *left = 0;
            None
        }
    }
}

/// Checks one object as [`Object::decode`] does, without building it: a tuple's items are checked
/// one by one (recursion bounded by [`crate::limits::MAX_TUPLE_DEPTH`], enforced by
/// `decode_head`).
fn check_object<'a>(d: &mut Decoder<'a>, i: &'a [u8], depth: usize) -> DResult<'a, ()> {
    match Object::decode_head(d, i, depth)? {
        (rest, object::Head::Whole(_)) => Ok((rest, ())),
        (rest, object::Head::Tuple(count)) => {
            d.each(rest, count, Segment::Index, |d, i| check_object(d, i, depth + 1))
        }
    }
}

/// Checks one raw code and its subtree as [`RawCode::decode`] does, without building it, calling
/// `f` on each raw code (parents first) with the decoder's path; returns the view of this one.
/// Recursion is bounded by [`crate::limits::MAX_RAW_CODE_DEPTH`], enforced by `decode_head`.
fn walk<'a, F: FnMut(&Path, &RawCodeView<'a>)>(
    d: &mut Decoder<'a>,
    i: &'a [u8],
    depth: usize,
    f: &mut F,
) -> DResult<'a, RawCodeView<'a>> {
    let offset = d.offset(i);
    let (i, head) = RawCode::decode_head(d, i, depth)?;
    let view = RawCodeView::new(d.whole(), offset, depth, d.offset(i), head);
    f(&d.path, &view);
    let (mut i, ()) = if view.n_children > 0 {
        d.each(i, view.n_children, Segment::Child, |d, i| {
            walk(d, i, depth + 1, f).map(|(rest, _)| (rest, ()))
        })?
    } else {
        (i, ())
    };
    // The relocation stream follows the children, as in `RawCode::decode`.
    if view.flags.contains(NativeFlags::RELOC) {
        i = d.within(Segment::Field("relocs"), |d| {
            let mut index = 0;
            loop {
                match reloc::decode_next(d, i, index)? {
                    (rest, None) => return Ok(rest),
                    (rest, Some(_)) => (i, index) = (rest, index + 1),
                }
            }
        })?;
    }
    Ok((i, view))
}
