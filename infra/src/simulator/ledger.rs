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
                    let written = file
                        .write_all(&lines)
                        .and_then(|()| file.sync_data())
                        .map_err(|error| error.to_string());
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
