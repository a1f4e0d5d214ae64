//! The simulator's durable memory of the trips it charged.

use serde::Serialize;

use super::trip_key;

/// One charge, as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    pub store_id: String,
    pub trip_id: String,
    pub order_id: String,
}

impl Charge {
    pub(super) fn key(&self) -> String {
        trip_key(&self.store_id, &self.trip_id)
    }
}

/// The simulator's memory of its charges (in `jwo serve`'s data directory): a file of JSON
/// lines, appended by one writer thread that writes whatever charges are waiting and fsyncs
/// once before any of them is answered. A line torn by a crash was never answered, so it is
/// ignored when the file is read back.
pub struct ChargeLedger {
    charges: Vec<Charge>,
    appends: std::sync::mpsc::Sender<(Charge, tokio::sync::oneshot::Sender<Result<(), String>>)>,
}

impl ChargeLedger {
    pub fn open(path: &std::path::Path) -> Result<ChargeLedger, String> {
        use std::io::Write;
        let shown = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(format!("cannot read {shown}: {error}")),
        };
        let complete = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |end| end + 1);
        let mut charges = Vec::new();
        for line in text[..complete]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
        {
            let charge: Charge = serde_json::from_slice(line)
                .map_err(|error| format!("{shown} is not a charge ledger: {error}"))?;
            charges.push(charge);
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| format!("cannot open {shown}: {error}"))?;
        // Cut a torn last line so the next append starts on a line of its own.
        file.set_len(complete as u64)
            .map_err(|error| format!("cannot repair {shown}: {error}"))?;
        let (appends, queue) =
            std::sync::mpsc::channel::<(Charge, tokio::sync::oneshot::Sender<Result<(), String>>)>(
            );
        let mut committed = complete as u64;
        std::thread::Builder::new()
            .name("charge-ledger".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut group = vec![first];
                    group.extend(queue.try_iter().take(1024));
                    let mut lines = Vec::new();
                    for (charge, _) in &group {
                        serde_json::to_writer(&mut lines, charge).expect("a charge serializes");
                        lines.push(b'\n');
                    }
                    let written = append(&mut file, &mut committed, &lines, |file, lines| {
                        file.write_all(lines)
                    });
                    for (_, answer) in group {
                        let _ = answer.send(written.clone());
                    }
                }
            })
            .map_err(|error| error.to_string())?;
        Ok(ChargeLedger { charges, appends })
    }

    /// The charges recorded before this start.
    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }

    /// Records a charge durably.
    pub async fn record(&self, charge: Charge) -> Result<(), String> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.appends
            .send((charge, answer))
            .map_err(|_| "the ledger writer stopped".to_owned())?;
        answered
            .await
            .map_err(|_| "the ledger writer stopped".to_owned())?
    }
}

/// Appends `lines` with `write` and makes them durable, or leaves the file as it was: a write
/// that failed part way is cut off again (back to `committed`, what was durable before), so a
/// later append never continues a torn line and a restart reads back every answered charge.
/// Once the file cannot be cut back, every later append is refused rather than mixed in.
fn append(
    file: &mut std::fs::File,
    committed: &mut u64,
    lines: &[u8],
    write: impl FnOnce(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<(), String> {
    if *committed == u64::MAX {
        return Err("the ledger could not be repaired after a failed write".into());
    }
    match write(file, lines).and_then(|()| file.sync_data()) {
        Ok(()) => {
            *committed += lines.len() as u64;
            Ok(())
        }
        Err(error) => {
            if file
                .set_len(*committed)
                .and_then(|()| file.sync_data())
                .is_err()
            {
                *committed = u64::MAX;
            }
            Err(format!("the charge was not recorded: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(n: usize) -> Charge {
        Charge {
            store_id: "STORE-001".into(),
            trip_id: format!("trip-{n}"),
            order_id: format!("order-{n}"),
        }
    }

    fn line(charge: &Charge) -> Vec<u8> {
        let mut line = serde_json::to_vec(charge).unwrap();
        line.push(b'\n');
        line
    }

    #[test]
    fn a_write_that_fails_part_way_is_cut_off_and_the_next_one_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let mut committed = 0;
        append(&mut file, &mut committed, &line(&charge(1)), |f, l| {
            std::io::Write::write_all(f, l)
        })
        .unwrap();
        // Half a line goes out, then the disk fails.
        let failed = append(&mut file, &mut committed, &line(&charge(2)), |f, l| {
            std::io::Write::write_all(f, &l[..l.len() / 2])?;
            Err(std::io::Error::other("no space left on device"))
        });
        assert!(failed.unwrap_err().contains("no space"));
        append(&mut file, &mut committed, &line(&charge(3)), |f, l| {
            std::io::Write::write_all(f, l)
        })
        .unwrap();
        drop(file);
        let reopened = ChargeLedger::open(&path).unwrap();
        assert_eq!(reopened.charges(), [charge(1), charge(3)]);
    }

    #[test]
    fn a_line_torn_by_a_crash_is_ignored_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let mut text = line(&charge(1));
        text.extend_from_slice(&line(&charge(2))[..10]);
        std::fs::write(&path, &text).unwrap();
        let reopened = ChargeLedger::open(&path).unwrap();
        assert_eq!(reopened.charges(), [charge(1)]);
        assert_eq!(std::fs::read(&path).unwrap(), line(&charge(1)));
    }
}
