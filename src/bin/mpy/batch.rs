//! Work on many files: spread over all cores (rayon), results in the order the files were named,
//! a progress bar on standard error when it is a terminal and the batch is long.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Batches shorter than this get no progress bar.
const PROGRESS_FROM: usize = 50;

/// Runs `work` on every file in parallel and returns the results in order.
pub fn map<T: Send>(files: &[PathBuf], work: impl Fn(&PathBuf) -> T + Sync) -> Vec<T> {
    map_init(files, || (), |(), file| work(file))
}

/// [`map`] with a state per worker, made by `init` (buffers kept from one file to the next).
pub fn map_init<S, T: Send>(
    files: &[PathBuf],
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, &PathBuf) -> T + Sync + Send,
) -> Vec<T> {
    let bar = (files.len() >= PROGRESS_FROM && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(files.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}") {
            bar.set_style(style);
        }
        bar
    });
    let results = files
        .par_iter()
        .map_init(init, |state, f| {
            let r = work(state, f);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            r
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results
}
