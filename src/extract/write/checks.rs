//! Checks made on the stream: queries whose `data_source_id` is not a
//! workspace data source (an item problem, `unknown_data_source`).

use std::collections::HashSet;

use serde_json::Value;

use super::{Writer, Written};
use crate::error::Result;
use crate::extract::problems::{ProblemKind, Problems};
use crate::extract::rows::{QueryRow, RunRow};

/// Reports each query (of a report or a dataset) on an unknown data source.
/// Data sources come first in the stream, so every id is known by then.
pub struct DataSourceCheck<'a> {
    problems: &'a Problems,
    known: HashSet<Value>,
}

impl<'a> DataSourceCheck<'a> {
    /// A check reporting to `problems`.
    pub fn new(problems: &'a Problems) -> Self {
        DataSourceCheck {
            problems,
            known: HashSet::new(),
        }
    }

    fn check(&self, query: &QueryRow, report: &str) -> Result<()> {
        let id = &query.data_source_id;
        if id.is_null() || self.known.contains(id) {
            return Ok(());
        }
        let token = query.token();
        let message = format!(
            "query {token} of report {report}: data source {id} is not among the workspace's data sources"
        );
        self.problems
            .report("query", token, ProblemKind::UnknownDataSource, message)
    }
}

impl Writer for DataSourceCheck<'_> {
    fn row(&mut self, row: &RunRow) -> Result<()> {
        match row {
            RunRow::Datasource(d) => {
                self.known.insert(d.id.clone());
                Ok(())
            }
            RunRow::Query(q) => self.check(q, q.report_token.as_str().unwrap_or_default()),
            RunRow::Dataset(d) => {
                let token = d.report.listing.token();
                d.queries.iter().try_for_each(|q| self.check(q, token))
            }
            _ => Ok(()),
        }
    }

    fn finish(self: Box<Self>, _: &mut Written) -> Result<()> {
        Ok(())
    }
}
