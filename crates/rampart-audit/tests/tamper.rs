//! Every kind of tampering with a multi-file trail is detected and located: one test per
//! attack, each against a closed trail of eight files with checkpoints.

mod common;

use common::*;
use rampart_audit::{BreakReason, CheckpointSigner, Verifier};

const EVENTS: usize = 30;
const FILE_BYTES: u64 = 2000;

fn fresh() -> Trail {
    let t = trail(EVENTS, FILE_BYTES);
    assert!(t.files.len() >= 5, "the trail spans several files");
    t
}

#[test]
fn rotation_continues_the_chain_and_every_verifier_accepts_the_trail() {
    let t = fresh();
    for summary in [intact(t.with_keys()), intact(t.with_both())] {
        assert_eq!(summary.records, EVENTS as u64);
        assert_eq!(summary.files, t.files.len());
        assert!(summary.closed);
        assert_eq!(summary.unverified_tail, 0);
    }
    let public = intact(t.with_public_key());
    assert_eq!(public.records, EVENTS as u64);
    assert_eq!(
        public.unverified_tail, 0,
        "a closed trail ends with a checkpoint"
    );
    // The names sort in trail order and each file starts by chaining from the one before.
    let mut sorted = t.files.clone();
    sorted.sort();
    assert_eq!(sorted, t.files);
    let first_of_second = &lines(&t.files[1])[0];
    assert!(first_of_second.contains("\"file_start\"") && first_of_second.contains("\"file\":1"));
}

#[test]
fn edited_field_is_detected_at_its_line() {
    let t = fresh();
    let file = &t.files[2];
    let mut l = lines(file);
    let n = l
        .iter()
        .position(|x| x.contains("\"name\":\"user"))
        .unwrap()
        + 1;
    l[n - 1] = l[n - 1].replacen("\"name\":\"user", "\"name\":\"mallory", 1);
    write_lines(file, &l);
    let b = broken(t.with_keys());
    assert_at(&b, file, n as u64, "chain_mismatch");
    // Without the chain key, the next checkpoint catches it and names the range.
    let b = broken(t.with_public_key());
    assert_eq!(b.file, *file);
    assert!(
        matches!(b.reason, BreakReason::CheckpointMismatch { .. }),
        "{}",
        b.reason
    );
}

#[test]
fn deleted_record_is_detected_as_a_sequence_gap() {
    let t = fresh();
    let file = &t.files[3];
    let n = event_line(file, 1);
    let mut l = lines(file);
    let gone = l.remove(n - 1);
    write_lines(file, &l);
    let b = broken(t.with_keys());
    assert_at(&b, file, n as u64, "sequence_gap");
    let seq: u64 = gone["{\"seq\":".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        b.reason,
        BreakReason::SequenceGap {
            expected: seq,
            found: seq + 1
        }
    );
    assert_eq!(broken(t.with_public_key()).reason.kind(), "sequence_gap");
}

#[test]
fn swapped_records_are_detected_at_the_first_of_them() {
    let t = fresh();
    let file = &t.files[1];
    let n = event_line(file, 1);
    let mut l = lines(file);
    l.swap(n - 1, n);
    write_lines(file, &l);
    let b = broken(t.with_keys());
    assert_at(&b, file, n as u64, "sequence_gap");
}

#[test]
fn swapped_and_renumbered_records_break_the_chain() {
    let t = fresh();
    let file = &t.files[1];
    let n = event_line(file, 1);
    let mut l = lines(file);
    let seq_a = format!("{{\"seq\":{},", n_seq(&l[n - 1]));
    let seq_b = format!("{{\"seq\":{},", n_seq(&l[n]));
    l[n - 1] = l[n - 1].replacen(&seq_a, &seq_b, 1);
    l[n] = l[n].replacen(&seq_b, &seq_a, 1);
    l.swap(n - 1, n);
    write_lines(file, &l);
    assert_at(&broken(t.with_keys()), file, n as u64, "chain_mismatch");
}

fn n_seq(line: &str) -> u64 {
    line["{\"seq\":".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn last_file_truncated_inside_a_line_is_detected() {
    let t = fresh();
    let file = t.files.last().unwrap();
    let bytes = std::fs::read(file).unwrap();
    std::fs::write(file, &bytes[..bytes.len() - 20]).unwrap();
    let b = broken(t.with_keys());
    assert_eq!(
        (b.file.as_path(), b.reason.kind()),
        (file.as_path(), "torn_line")
    );
}

#[test]
fn last_file_truncated_at_a_line_boundary_is_detected_when_the_trail_must_be_closed() {
    let t = fresh();
    let file = t.files.last().unwrap();
    let mut l = lines(file);
    let kept = l.len() - 2; // drop the shutdown mark and the final checkpoint
    l.truncate(kept);
    write_lines(file, &l);
    let b = broken(
        Verifier::new()
            .with_keys(keys())
            .with_require_closed(true)
            .verify_files(&t.files)
            .unwrap(),
    );
    assert_at(&b, file, kept as u64 + 1, "not_closed");
    // Without that requirement the trail reads as one still being written.
    assert!(!intact(t.with_keys()).closed);
}

#[test]
fn deleted_middle_file_is_detected_at_the_next_file() {
    let t = fresh();
    std::fs::remove_file(&t.files[2]).unwrap();
    let files: Vec<_> = t.files.iter().filter(|f| f.exists()).cloned().collect();
    let b = broken(
        Verifier::new()
            .with_keys(keys())
            .verify_files(&files)
            .unwrap(),
    );
    // The sequence number is checked first (it is what the chain key vouches for).
    assert_at(&b, &t.files[3], 1, "sequence_gap");
}

#[test]
fn dropped_first_file_is_detected() {
    let t = fresh();
    let b = broken(
        Verifier::new()
            .with_keys(keys())
            .verify_files(&t.files[1..])
            .unwrap(),
    );
    assert_at(&b, &t.files[1], 1, "sequence_gap");
    let b = broken(
        Verifier::new()
            .with_checkpoint_key(t.public)
            .verify_files(&t.files[1..])
            .unwrap(),
    );
    assert_eq!(b.file, t.files[1]);
}

#[test]
fn dropped_last_file_is_detected() {
    let t = fresh();
    let n = t.files.len();
    let b = broken(
        Verifier::new()
            .with_keys(keys())
            .verify_files(&t.files[..n - 1])
            .unwrap(),
    );
    assert_eq!(
        (b.file.as_path(), b.reason.kind()),
        (t.files[n - 2].as_path(), "next_file_missing")
    );
}

#[test]
fn files_given_out_of_order_are_detected() {
    let t = fresh();
    let mut files = t.files.clone();
    files.swap(1, 2);
    let b = broken(
        Verifier::new()
            .with_keys(keys())
            .verify_files(&files)
            .unwrap(),
    );
    assert_eq!(b.file, t.files[2]);
}

#[test]
fn record_rechained_with_a_wrong_key_is_detected() {
    let t = fresh();
    let file = &t.files[4];
    let n = event_line(file, 1);
    let mut l = lines(file);
    let prev = chain_of(
        l[..n - 1]
            .iter()
            .rev()
            .find(|x| x.starts_with("{\"seq\""))
            .unwrap(),
    );
    let edited = l[n - 1].replacen("\"status_id\":", "\"status_id\":1,\"x\":", 0);
    let edited = edited
        .replacen("Success", "Failure", 1)
        .replacen("Failure\"", "Success\"", 0);
    // Re-chain the edited record and everything after it with the attacker's key.
    let attacker = [0x11u8; 32];
    let mut prev_chain = prev;
    l[n - 1] = rechain(&edited.replacen("user", "root", 1), &prev_chain, &attacker);
    prev_chain = chain_of(&l[n - 1]);
    for line in l.iter_mut().skip(n) {
        if line.starts_with("{\"seq\"") {
            *line = rechain(line, &prev_chain, &attacker);
            prev_chain = chain_of(line);
        }
    }
    write_lines(file, &l);
    assert_at(&broken(t.with_keys()), file, n as u64, "chain_mismatch");
}

#[test]
fn record_under_an_unknown_key_id_is_reported_as_such() {
    let t = fresh();
    let file = &t.files[1];
    let n = event_line(file, 1);
    let mut l = lines(file);
    l[n - 1] = l[n - 1].replacen("\"kid\":\"k1\"", "\"kid\":\"k2\"", 1);
    write_lines(file, &l);
    let b = broken(t.with_keys());
    assert_at(&b, file, n as u64, "unknown_key");
}

#[test]
fn checkpoint_with_a_bad_signature_is_detected() {
    let t = fresh();
    let file = &t.files[2];
    let mut l = lines(file);
    let n = l
        .iter()
        .position(|x| x.starts_with("{\"checkpoint\""))
        .unwrap()
        + 1;
    let line = &mut l[n - 1];
    let at = line.len() - 10;
    let c = if &line[at..=at] == "A" { "B" } else { "A" };
    line.replace_range(at..=at, c);
    write_lines(file, &l);
    let b = broken(t.with_public_key());
    assert_eq!(b.file, *file);
    assert!(
        matches!(b.reason.kind(), "checkpoint_signature" | "malformed"),
        "{}",
        b.reason
    );
    assert_eq!(b.line, n as u64);
}

#[test]
fn checkpoint_resigned_with_another_key_is_detected() {
    let t = fresh();
    let other = CheckpointSigner::from_pkcs8(&CheckpointSigner::generate_pkcs8().unwrap()).unwrap();
    let file = &t.files[2];
    // A trail written entirely under another signing key: its first checkpoint is refused.
    let forged = trail(3, 100_000);
    let _ = other;
    let b = broken(
        Verifier::new()
            .with_checkpoint_key(t.public)
            .verify_files(&forged.files)
            .unwrap(),
    );
    assert_eq!((b.line, b.reason.kind()), (2, "checkpoint_key"));
    // The same with the key id edited to ours: the signature fails.
    let mut l = lines(&forged.files[0]);
    let ours = format!("\"key\":\"{}\"", t.public.id());
    let theirs = format!("\"key\":\"{}\"", forged.public.id());
    l[1] = l[1].replacen(&theirs, &ours, 1);
    write_lines(&forged.files[0], &l);
    let b = broken(
        Verifier::new()
            .with_checkpoint_key(t.public)
            .verify_files(&forged.files)
            .unwrap(),
    );
    assert_eq!((b.line, b.reason.kind()), (2, "checkpoint_signature"));
    let _ = file;
}

#[test]
fn inserted_record_is_detected() {
    let t = fresh();
    let file = &t.files[2];
    let n = event_line(file, 1);
    let mut l = lines(file);
    let copy = l[n - 1].clone();
    l.insert(n, copy);
    write_lines(file, &l);
    assert_at(&broken(t.with_keys()), file, n as u64 + 1, "sequence_gap");
}

#[test]
fn appended_garbage_after_the_end_is_detected() {
    let t = fresh();
    let file = t.files.last().unwrap();
    let mut l = lines(file);
    l.push("{\"hello\":1}".to_owned());
    let n = l.len();
    write_lines(file, &l);
    assert_at(&broken(t.with_keys()), file, n as u64, "malformed");
}
