//! Price book versions in the catalog table: the head item, gzipped parts, and a small book
//! inline in the head.

use aws_sdk_dynamodb::types::AttributeValue;

use super::super::purchases::{Item, conditional_put, unavailable};
use super::{DynamoDbCatalog, item_of, number, text};
use jwo_domain::catalog::price_book_versions::PriceBookHead;
use jwo_domain::ports::PriceBookStore;
use jwo_domain::store::StoreError;

/// Gzipped price book JSON is cut into parts of this many bytes, under DynamoDB's 400 KB item.
const PART_BYTES: usize = 350 * 1024;
/// A price book this small once gzipped is also kept in the head item (`inlineBody`), so a cold
/// start reads head and book in one `GetItem`. Small, because every check of the head (each
/// cache period, in each running function) pays for the whole item's size.
const INLINE_BYTES: usize = 16 * 1024;
const HEAD_KEY: &str = "pricebook#current";

fn gunzip(gzipped: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzipped), &mut json)?;
    Ok(json)
}

fn part_key(sha256: &str, part: usize) -> AttributeValue {
    AttributeValue::S(format!("pricebook#{sha256}#{part}"))
}

fn head_item(head: &PriceBookHead, key: &str) -> Item {
    item_of([
        ("pk", AttributeValue::S(key.to_owned())),
        (
            "priceBookVersion",
            AttributeValue::N(head.version.to_string()),
        ),
        ("sha256", AttributeValue::S(head.sha256.clone())),
        ("items", AttributeValue::N(head.items.to_string())),
        ("source", AttributeValue::S(head.source.clone())),
        (
            "importedAt",
            AttributeValue::S(head.imported_at.to_rfc3339()),
        ),
    ])
}

fn head_from_item(item: &Item) -> Result<PriceBookHead, StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        record: format!("price book head ({HEAD_KEY})"),
        reason: reason.into(),
    };
    let text = |name: &str| text(item, name).ok_or_else(|| corrupt(&format!("no {name}")));
    let number =
        |name: &str| number::<u64>(item, name).ok_or_else(|| corrupt(&format!("no number {name}")));
    Ok(PriceBookHead {
        version: number("priceBookVersion")?,
        sha256: text("sha256")?,
        items: number("items")? as usize,
        source: text("source")?,
        imported_at: text("importedAt")?
            .parse()
            .map_err(|_| corrupt("importedAt is not a time"))?,
    })
}

impl DynamoDbCatalog {
    /// A strongly consistent read of the head item.
    fn get_head(&self) -> aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(HEAD_KEY.into()))
            .consistent_read(true)
    }
}

/// Price book versions in the catalog table: the JSON gzipped and cut into parts keyed by its
/// SHA-256 (`pricebook#{sha256}#{n}`, part 0 saying how many), written first; then the head
/// `pricebook#current`, in one conditional write from the version before, so two imports
/// cannot both become version N; then `pricebook#v{N}`, the history. Content-addressed parts
/// make a crashed import harmless: its parts are overwritten with the same bytes, or ignored.
impl PriceBookStore for DynamoDbCatalog {
    async fn head(&self) -> Result<Option<PriceBookHead>, StoreError> {
        // Without the inline book: every cache check reads the head.
        let output = self
            .get_head()
            .projection_expression("priceBookVersion, sha256, #items, #source, importedAt")
            .expression_attribute_names("#items", "items")
            .expression_attribute_names("#source", "source")
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(head_from_item).transpose()
    }

    async fn version_head(&self, version: u64) -> Result<Option<PriceBookHead>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("pricebook#v{version}")))
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(head_from_item).transpose()
    }

    async fn current_with_json(&self) -> Result<Option<(PriceBookHead, Vec<u8>)>, StoreError> {
        let output = self.get_head().send().await.map_err(unavailable)?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let head = head_from_item(item)?;
        let json = match item.get("inlineBody") {
            Some(AttributeValue::B(gzipped)) => {
                gunzip(gzipped.as_ref()).map_err(|error| StoreError::Corrupt {
                    record: format!("price book {}", head.label()),
                    reason: format!("cannot gunzip: {error}"),
                })?
            }
            _ => self.read(&head).await?,
        };
        Ok(Some((head, json)))
    }

    async fn read(&self, head: &PriceBookHead) -> Result<Vec<u8>, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            record: format!("price book {}", head.label()),
            reason,
        };
        let get = |part: usize| {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", part_key(&head.sha256, part))
                .send()
        };
        let first = get(0).await.map_err(unavailable)?;
        let first = first
            .item()
            .ok_or_else(|| corrupt("its first part is missing".into()))?;
        let parts = match first.get("parts") {
            Some(AttributeValue::N(n)) => n.parse::<usize>().unwrap_or(0),
            _ => 0,
        };
        let mut items = vec![first.clone()];
        let rest = futures_util::future::try_join_all((1..parts).map(get))
            .await
            .map_err(unavailable)?;
        for (n, output) in rest.into_iter().enumerate() {
            items.push(
                output
                    .item
                    .ok_or_else(|| corrupt(format!("part {} is missing", n + 1)))?,
            );
        }
        let mut gzipped = Vec::new();
        for item in &items {
            match item.get("body") {
                Some(AttributeValue::B(blob)) => gzipped.extend_from_slice(blob.as_ref()),
                _ => return Err(corrupt("a part has no body".into())),
            }
        }
        gunzip(&gzipped).map_err(|error| corrupt(format!("cannot gunzip: {error}")))
    }

    async fn publish(&self, head: &PriceBookHead, json: &[u8]) -> Result<(), StoreError> {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gzip, json).expect("gzip to memory");
        let gzipped = gzip.finish().expect("gzip to memory");
        let chunks: Vec<&[u8]> = gzipped.chunks(PART_BYTES).collect();
        let parts = chunks.len();
        futures_util::future::try_join_all(chunks.into_iter().enumerate().map(|(n, chunk)| {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", part_key(&head.sha256, n))
                .item("body", AttributeValue::B(chunk.to_vec().into()));
            if n == 0 {
                put = put.item("parts", AttributeValue::N(parts.to_string()));
            }
            put.send()
        }))
        .await
        .map_err(unavailable)?;

        let (condition, values) = if head.version == 1 {
            ("attribute_not_exists(pk)", vec![])
        } else {
            (
                "priceBookVersion = :previous",
                vec![(
                    ":previous",
                    AttributeValue::N((head.version - 1).to_string()),
                )],
            )
        };
        let mut current = head_item(head, HEAD_KEY);
        if gzipped.len() <= INLINE_BYTES {
            current.insert(
                "inlineBody".into(),
                AttributeValue::B(gzipped.clone().into()),
            );
        }
        match conditional_put(&self.client, &self.table, current, condition, values).await? {
            Ok(()) => {}
            Err(stored) => {
                let now = stored
                    .as_ref()
                    .and_then(|item| head_from_item(item).ok())
                    .map_or("none".to_owned(), |head| head.label());
                return Err(StoreError::Conflict(format!(
                    "the current price book is {now}, not v{}; import again",
                    head.version - 1
                )));
            }
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(head_item(
                head,
                &format!("pricebook#v{}", head.version),
            )))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
