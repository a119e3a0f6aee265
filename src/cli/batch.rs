//! The `check --requests` engine: read JSON Lines, answer each line, write the answers in input order.
//!
//! Lines are read in rounds on the calling thread; a round is answered by one scoped thread per core
//! (`std::thread::scope`: the compiled [`Engine`] is immutable and shared by reference), each taking
//! pieces in turn, the calling thread joining in once it has read the next round; the pieces' outputs are
//! written in input order. A round too small to split is answered on the calling thread, each answer
//! written at once. Rounds are sized by format so that the answers held in memory stay small.
//! Each line is answered exactly as a one-line `check` would be: a bad line gets an error object
//! (`{"line", "error", "file"}`) and the rest go on. In text, each answer's summary comes from
//! [`Engine::explain_brief`] (the decisive entries without checks); in JSON, from the full
//! [`Engine::explain`].

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use super::emit_error;
use crate::cli::{Exit, Failure, Format};
use crate::error::Error;
use crate::model::request::Request;
use crate::{Engine, Verdict};

/// Lines read and answered per round, and taken by a worker at a time, in text. A round's answers are
/// held until it is written: about 200 bytes each in text.
const TEXT_ROUND: (usize, usize) = (32 * 1024, 1024);
/// The same in JSON, whose answers carry the whole trace (hundreds of kB for a permission asked of an
/// identity with many policies), so that a round holds tens of MB, not GB.
const JSON_ROUND: (usize, usize) = (64, 4);

/// One input line: its 1-based number and its text, or why it could not be read.
type Line = (usize, Result<String, String>);

/// What a run of lines produced: the output bytes, in order, and the counts.
#[derive(Default)]
struct Part {
    out: Vec<u8>,
    evaluated: usize,
    allowed: usize,
    bad: usize,
}

/// Answer every line of `reader`, writing to `out` in input order; a summary goes to stderr.
pub(super) fn run(
    engine: &Engine,
    reader: Box<dyn BufRead>,
    path: &str,
    format: Format,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let (round, piece) = match format {
        Format::Text => TEXT_ROUND,
        Format::Json => JSON_ROUND,
    };
    let mut lines = reader.lines().enumerate();
    let mut read_chunk = || -> Vec<Line> {
        lines
            .by_ref()
            .take(round)
            .map(|(i, l)| (i + 1, l.map_err(|e| format!("cannot read the line: {e}"))))
            .collect()
    };
    let mut total = Part::default();
    let mut chunk = read_chunk();
    while !chunk.is_empty() {
        let (parts, next) = if threads < 2 || chunk.len() < 2 * piece {
            // Few lines: answer them here, writing each answer at once.
            let mut part = Part::default();
            for (n, line) in &chunk {
                answer(engine, path, format, *n, line, &mut part)?;
                out.write_all(&part.out)?;
                part.out.clear();
            }
            (vec![part], read_chunk())
        } else {
            // Small pieces taken in turn from a shared counter keep every core busy to the end of the
            // chunk; the calling thread reads the next chunk, then joins in.
            let pieces: Vec<&[Line]> = chunk.chunks(piece).collect();
            let next_piece = AtomicUsize::new(0);
            let work = || -> Result<Vec<(usize, Part)>, Failure> {
                let mut done = Vec::new();
                loop {
                    let i = next_piece.fetch_add(1, Ordering::Relaxed);
                    let Some(lines) = pieces.get(i) else {
                        return Ok(done);
                    };
                    done.push((i, answer_all(engine, path, format, lines)?));
                }
            };
            thread::scope(|s| {
                let workers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
                let next = read_chunk();
                let mut parts: Vec<(usize, Part)> = work()?;
                for w in workers {
                    let done = w.join().unwrap_or_else(|_| {
                        Err(Failure::Error(Error::Usage(String::from(
                            "internal error: a batch worker stopped",
                        ))))
                    })?;
                    parts.extend(done);
                }
                parts.sort_unstable_by_key(|(i, _)| *i);
                Ok::<_, Failure>((parts.into_iter().map(|(_, p)| p).collect(), next))
            })?
        };
        for p in parts {
            out.write_all(&p.out)?;
            total.evaluated += p.evaluated;
            total.allowed += p.allowed;
            total.bad += p.bad;
        }
        chunk = next;
    }
    out.flush()?;
    let Part {
        evaluated,
        allowed,
        bad,
        ..
    } = total;
    eprintln!("{evaluated} requests evaluated ({allowed} allowed, {} denied), {bad} lines could not be evaluated", evaluated - allowed);
    Ok(if bad == 0 { Exit::Ok } else { Exit::Bad })
}

/// Answer a run of lines into one buffer.
fn answer_all(
    engine: &Engine,
    path: &str,
    format: Format,
    lines: &[Line],
) -> Result<Part, Failure> {
    let mut part = Part {
        out: Vec::with_capacity(lines.len() * 160),
        ..Part::default()
    };
    for (n, line) in lines {
        answer(engine, path, format, *n, line, &mut part)?;
    }
    Ok(part)
}

/// Answer one line.
fn answer(
    engine: &Engine,
    path: &str,
    format: Format,
    n: usize,
    line: &Result<String, String>,
    part: &mut Part,
) -> Result<(), Failure> {
    let out = &mut part.out;
    let line = match line {
        Ok(l) => l,
        Err(e) => {
            part.bad += 1;
            return emit_error(out, format, path, n, e);
        }
    };
    if line.trim().is_empty() {
        return Ok(());
    }
    // The loader's request parser: duplicate keys and limits checked, only a JSON object accepted.
    let req: Request = match crate::load::request_line(line, &crate::load::Limits::default()) {
        Ok(r) => r,
        Err(msg) => {
            part.bad += 1;
            return emit_error(out, format, path, n, &msg);
        }
    };
    let answer = engine.prepare(&req).map(|p| match format {
        Format::Json => engine.explain(&p),
        Format::Text => engine.explain_brief(&p),
    });
    match answer {
        Ok(resp) => {
            part.evaluated += 1;
            if resp.decision == Verdict::Allow {
                part.allowed += 1;
            }
            match format {
                Format::Json => {
                    let mut v = crate::report::json(&resp);
                    if let Some(o) = v.as_object_mut() {
                        o.insert(String::from("line"), n.into());
                    }
                    writeln!(out, "{}", serde_json::to_string(&v).unwrap_or_default())?;
                }
                Format::Text => {
                    let r = &resp.request;
                    writeln!(
                        out,
                        "{n}: {} ({}) {} {} {} — {}",
                        if resp.decision == Verdict::Allow {
                            "ALLOW"
                        } else {
                            "DENY"
                        },
                        resp.reason.as_str(),
                        r.identity.as_deref().unwrap_or("(caller)"),
                        r.action,
                        r.resource.as_deref().unwrap_or(""),
                        crate::report::summary(&resp)
                    )?;
                }
            }
        }
        Err(e) => {
            part.bad += 1;
            emit_error(out, format, path, n, &e.to_string())?;
        }
    }
    Ok(())
}
