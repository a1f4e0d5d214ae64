//! Importing a price book's items from CSV. The columns use the Catalog API's own names where
//! one exists, so the same sheet a retailer keeps for the catalog feeds the price book.

use std::collections::HashSet;
use std::io::Read;

use super::book_file::{BarcodeEntry, FeeEntry, ItemEntry, PriceBookFile};
use super::price_book::{PriceBook, PriceBookError};
use crate::json::FieldError;

/// Every accepted column. `item_sku`, `item_name`, `standard_price` and `product_tax_code` are
/// required; the rest may be absent or empty.
pub const CSV_COLUMNS: &[&str] = &[
    "item_sku",
    "item_name",
    "standard_price",
    "product_tax_code",
    "sold_by",
    "unit",
    "external_product_id",
    "external_product_id_type",
    "fee_description",
    "fee_amount",
    "fee_taxable",
    "brand_name",
    "product_category",
    "product_subcategory",
];

const REQUIRED_COLUMNS: &[&str] = &[
    "item_sku",
    "item_name",
    "standard_price",
    "product_tax_code",
];

/// Replaces the items of `base` with the rows of a CSV file and checks the result as a whole.
/// Nothing is applied unless every row is good; errors name the row (the header is row 1) and
/// the column.
pub fn import_items_csv(base: PriceBookFile, csv: impl Read) -> Result<PriceBook, PriceBookError> {
    let items = read_items_csv(csv)?;
    let file = PriceBookFile { items, ..base };
    PriceBook::from_file(file).map_err(|error| PriceBookError {
        problems: error.problems.into_iter().map(name_row).collect(),
    })
}

fn problem(field: String, reason: impl Into<String>) -> PriceBookError {
    PriceBookError {
        problems: vec![FieldError {
            field,
            reason: reason.into(),
        }],
    }
}

/// `items[3].price` → `row 5, standard_price`, so the error points into the sheet.
fn name_row(problem: FieldError) -> FieldError {
    let Some(rest) = problem.field.strip_prefix("items[") else {
        return problem;
    };
    let Some((index, field)) = rest.split_once(']') else {
        return problem;
    };
    let Ok(index) = index.parse::<usize>() else {
        return problem;
    };
    let column = match field.trim_start_matches('.') {
        "sku" => "item_sku",
        "name" => "item_name",
        "price" => "standard_price",
        "taxCode" => "product_tax_code",
        "soldBy" => "sold_by",
        "unit" => "unit",
        f if f.starts_with("barcodes") && f.ends_with("type") => "external_product_id_type",
        f if f.starts_with("barcodes") => "external_product_id",
        f if f.starts_with("fees") && f.ends_with("amount") => "fee_amount",
        f if f.starts_with("fees") => "fee_description",
        other => other,
    };
    FieldError {
        field: format!("row {}, {column}", index + 2),
        reason: problem.reason,
    }
}

fn read_items_csv(csv: impl Read) -> Result<Vec<ItemEntry>, PriceBookError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv);
    let headers = reader
        .headers()
        .map_err(|error| problem("row 1".into(), format!("cannot read the header: {error}")))?
        .clone();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for header in &headers {
        if !CSV_COLUMNS.contains(&header) {
            problems.push(FieldError {
                field: format!("row 1, {header}"),
                reason: format!("is not a known column; use {}", CSV_COLUMNS.join(", ")),
            });
        }
        if !seen.insert(header) {
            problems.push(FieldError {
                field: format!("row 1, {header}"),
                reason: "appears twice".into(),
            });
        }
    }
    for required in REQUIRED_COLUMNS {
        if !seen.contains(required) {
            problems.push(FieldError {
                field: "row 1".into(),
                reason: format!("the required column {required} is missing"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(PriceBookError { problems });
    }
    let column = |name: &str| headers.iter().position(|header| header == name);

    let mut items = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.map_err(|error| problem(format!("row {row}"), error.to_string()))?;
        let cell = |name: &str| -> Option<String> {
            column(name)
                .and_then(|at| record.get(at))
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let barcodes = match (
            cell("external_product_id"),
            cell("external_product_id_type"),
        ) {
            (Some(id), Some(barcode_type)) => vec![BarcodeEntry { barcode_type, id }],
            (None, None) => Vec::new(),
            _ => {
                problems.push(cell_problem(
                    row,
                    "external_product_id",
                    "external_product_id and external_product_id_type go together",
                ));
                Vec::new()
            }
        };
        let fee_taxable = match cell("fee_taxable").as_deref() {
            None | Some("false") | Some("no") | Some("0") => false,
            Some("true") | Some("yes") | Some("1") => true,
            Some(other) => {
                problems.push(cell_problem(
                    row,
                    "fee_taxable",
                    format!("'{other}' is not true or false"),
                ));
                false
            }
        };
        let fees = match (cell("fee_description"), cell("fee_amount")) {
            (Some(description), Some(amount)) => vec![FeeEntry {
                description,
                amount,
                taxable: fee_taxable,
            }],
            (None, None) => Vec::new(),
            _ => {
                problems.push(cell_problem(
                    row,
                    "fee_amount",
                    "fee_description and fee_amount go together",
                ));
                Vec::new()
            }
        };
        items.push(ItemEntry {
            sku: cell("item_sku").unwrap_or_default(),
            name: cell("item_name").unwrap_or_default(),
            price: cell("standard_price").unwrap_or_default(),
            tax_code: cell("product_tax_code").unwrap_or_default(),
            sold_by: cell("sold_by"),
            unit: cell("unit"),
            barcodes,
            fees,
            brand: cell("brand_name"),
            category: cell("product_category"),
            subcategory: cell("product_subcategory"),
        });
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(PriceBookError { problems })
    }
}

/// A problem with one cell of a row.
fn cell_problem(row: usize, column: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: format!("row {row}, {column}"),
        reason: reason.into(),
    }
}
