//! The behaviour every catalog store ([`PriceBookStore`] and [`IngestionStore`]) must show,
//! run against each adapter.

use chrono::{Duration, Utc};

use crate::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use crate::catalog::price_book_versions::PriceBookHead;
use crate::contract::catalog::ProcessingStatus;
use crate::ports::{IngestionStore, PriceBookStore};
use crate::store::StoreError;

pub async fn run_all<C: PriceBookStore + IngestionStore>(catalog: &C) {
    publish_two_versions(catalog).await;
    uploads_and_statuses(catalog).await;
}

fn head(version: u64, json: &[u8]) -> PriceBookHead {
    use sha2::Digest;
    PriceBookHead {
        version,
        sha256: hex::encode(sha2::Sha256::digest(json)),
        items: 1,
        source: format!("book-{version}.json"),
        imported_at: Utc::now(),
    }
}

/// v1 then v2; a version out of turn is a conflict and changes nothing.
pub async fn publish_two_versions<C: PriceBookStore>(catalog: &C) {
    assert_eq!(catalog.head().await.unwrap(), None);
    let first = head(1, b"{\"first\":true}");
    catalog.publish(&first, b"{\"first\":true}").await.unwrap();
    assert_eq!(catalog.head().await.unwrap(), Some(first.clone()));
    for out_of_turn in [1, 3] {
        let error = catalog
            .publish(&head(out_of_turn, b"{}"), b"{}")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Conflict(_)), "{error}");
        assert_eq!(catalog.head().await.unwrap(), Some(first.clone()));
    }
    assert_eq!(
        catalog.current_with_json().await.unwrap(),
        Some((first.clone(), b"{\"first\":true}".to_vec()))
    );
    // Big enough, even gzipped (pseudo-random hex), to need several parts where items are
    // limited in size.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let pad: String = (0..900_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from_digit(((state >> 60) & 0xF) as u32, 16).unwrap()
        })
        .collect();
    let big = format!("{{\"pad\":\"{pad}\"}}").into_bytes();
    let second = head(2, &big);
    catalog.publish(&second, &big).await.unwrap();
    assert_eq!(catalog.head().await.unwrap(), Some(second.clone()));
    assert_eq!(catalog.read(&second).await.unwrap(), big);
    assert_eq!(
        catalog.current_with_json().await.unwrap(),
        Some((second.clone(), big.clone()))
    );
    assert_eq!(catalog.read(&first).await.unwrap(), b"{\"first\":true}");
}

fn upload(call: usize, at: chrono::DateTime<Utc>) -> Upload {
    Upload {
        items: 10_000,
        price_book_version: "v2".into(),
        call,
        calls: 2,
        uploaded_at: at,
        // The second call was retried after an attempt without an answer.
        unanswered_attempts: u32::try_from(call - 1).unwrap(),
    }
}

async fn uploads_and_statuses<C: IngestionStore>(catalog: &C) {
    let at = Utc::now() - Duration::minutes(5);
    let first = catalog
        .record_upload("ing-1", &upload(1, at))
        .await
        .unwrap();
    assert_eq!(first.status, ProcessingStatus::InQueue);
    assert_eq!(first.upload, Some(upload(1, at)));

    // Statuses move forward and keep what the upload recorded.
    let progress = Ingestion::with_status("ing-1", ProcessingStatus::InProgress);
    let StatusRecorded::Advanced(_) = catalog.record_status(&progress).await.unwrap() else {
        panic!("INPROGRESS did not advance")
    };
    let mut done = Ingestion::with_status("ing-1", ProcessingStatus::Done);
    done.report_download_link = Some("https://example.com/report".into());
    catalog.record_status(&done).await.unwrap();
    let StatusRecorded::Unchanged(stored) = catalog.record_status(&progress).await.unwrap() else {
        panic!("a late INPROGRESS overwrote DONE")
    };
    assert_eq!(stored.status, ProcessingStatus::Done);
    assert_eq!(stored.upload, Some(upload(1, at)));
    assert_eq!(
        stored.report_download_link.as_deref(),
        Some("https://example.com/report")
    );

    // A notification that beats the upload's record: its status stays.
    let fatal = Ingestion::with_status("ing-2", ProcessingStatus::Fatal);
    catalog.record_status(&fatal).await.unwrap();
    let second = catalog
        .record_upload("ing-2", &upload(2, at + Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(second.status, ProcessingStatus::Fatal);
    assert_eq!(
        second.upload,
        Some(upload(2, at + Duration::seconds(1))),
        "kept with its unanswered attempts"
    );
    catalog.mark_alerted("ing-2").await.unwrap();
    assert!(
        catalog
            .get_ingestion("ing-2")
            .await
            .unwrap()
            .unwrap()
            .alerted
    );

    // Someone else's upload (no record of ours) is listed after ours.
    catalog
        .record_status(&Ingestion::with_status(
            "ing-0-foreign",
            ProcessingStatus::Done,
        ))
        .await
        .unwrap();
    let listed: Vec<String> = catalog
        .list_ingestions()
        .await
        .unwrap()
        .into_iter()
        .map(|ingestion| ingestion.ingestion_id)
        .collect();
    assert_eq!(listed, vec!["ing-1", "ing-2", "ing-0-foreign"]);
    assert_eq!(catalog.get_ingestion("ing-none").await.unwrap(), None);
}
