//! Generated data sources and the warehouse tables each one holds.

use serde_json::{Value, json};

use super::ctx::{Gen, iso, link};

/// A warehouse table and the columns the generated SQL uses.
pub(crate) struct Table {
    /// The name as written in SQL (`schema.table` or `db.schema.table`).
    pub(crate) name: &'static str,
    /// A timestamp column.
    pub(crate) date: &'static str,
    /// A numeric column.
    pub(crate) measure: &'static str,
    /// A text column.
    pub(crate) dim: &'static str,
}

const fn t(
    name: &'static str,
    date: &'static str,
    measure: &'static str,
    dim: &'static str,
) -> Table {
    Table {
        name,
        date,
        measure,
        dim,
    }
}

/// The SQL flavour of a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adapter {
    Postgres,
    Snowflake,
    BigQuery,
    Redshift,
    MySql,
}

impl Adapter {
    /// Mode's `adapter` value.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Adapter::Postgres => "jdbc:postgresql",
            Adapter::Snowflake => "jdbc:snowflake",
            Adapter::BigQuery => "jdbc:bigquery",
            Adapter::Redshift => "jdbc:redshift",
            Adapter::MySql => "jdbc:mysql",
        }
    }

    /// The column every table of this warehouse can be joined on.
    pub(crate) fn link(self) -> &'static str {
        match self {
            Adapter::Snowflake => "CUSTOMER_ID",
            Adapter::BigQuery | Adapter::Redshift => "user_id",
            Adapter::Postgres | Adapter::MySql => "customer_id",
        }
    }

    /// The tables of this warehouse.
    pub(crate) fn tables(self) -> &'static [Table] {
        match self {
            Adapter::Postgres => POSTGRES,
            Adapter::Snowflake => SNOWFLAKE,
            Adapter::BigQuery => BIGQUERY,
            Adapter::Redshift => REDSHIFT,
            Adapter::MySql => MYSQL,
        }
    }

    /// A table reference as written in SQL (BigQuery quotes with backticks).
    pub(crate) fn quote(self, table: &Table) -> String {
        match self {
            Adapter::BigQuery => format!("`{}`", table.name),
            _ => table.name.to_owned(),
        }
    }

    /// A "last 30 days" predicate on `column` in this dialect.
    pub(crate) fn recent(self, column: &str) -> String {
        match self {
            Adapter::Postgres => format!("{column} >= CURRENT_DATE - INTERVAL '30 days'"),
            Adapter::Snowflake => format!("{column} >= DATEADD(day, -30, CURRENT_DATE())"),
            Adapter::BigQuery => {
                format!("DATE({column}) >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY)")
            }
            Adapter::Redshift => format!("{column} >= DATEADD(day, -30, GETDATE())"),
            Adapter::MySql => format!("{column} >= DATE_SUB(CURDATE(), INTERVAL 30 DAY)"),
        }
    }
}

const POSTGRES: &[Table] = &[
    t(
        "public.customers",
        "created_at",
        "lifetime_value",
        "segment",
    ),
    t("public.orders", "ordered_at", "amount", "status"),
    t("public.order_items", "created_at", "quantity", "sku"),
    t("sales.invoices", "issued_at", "total_due", "currency"),
    t("sales.refunds", "refunded_at", "refund_amount", "reason"),
    t("crm.accounts", "created_at", "arr", "industry"),
    t("crm.contacts", "created_at", "score", "country"),
];
const SNOWFLAKE: &[Table] = &[
    t(
        "ANALYTICS.MARTS.FCT_ORDERS",
        "ORDER_DATE",
        "AMOUNT_USD",
        "CHANNEL",
    ),
    t(
        "ANALYTICS.MARTS.DIM_CUSTOMERS",
        "SIGNUP_DATE",
        "LIFETIME_VALUE",
        "REGION",
    ),
    t("RAW.STRIPE.CHARGES", "CREATED", "AMOUNT", "STATUS"),
    t(
        "RAW.SALESFORCE.OPPORTUNITY",
        "CLOSE_DATE",
        "AMOUNT",
        "STAGE_NAME",
    ),
    t(
        "MARTS.FCT_SESSIONS",
        "SESSION_START",
        "DURATION_S",
        "DEVICE",
    ),
    t("FINANCE.REVENUE_DAILY", "DAY", "REVENUE", "PRODUCT_LINE"),
];
const BIGQUERY: &[Table] = &[
    t(
        "acme-analytics-prod.analytics.events",
        "event_timestamp",
        "event_value",
        "event_name",
    ),
    t(
        "acme-analytics-prod.analytics.users",
        "first_seen",
        "ltv",
        "country",
    ),
    t(
        "acme-analytics-prod.marketing.campaigns",
        "start_date",
        "spend",
        "channel",
    ),
    t(
        "acme-analytics-prod.billing.invoices",
        "invoice_date",
        "amount",
        "plan",
    ),
    t("analytics.sessions", "session_start", "pageviews", "device"),
];
const REDSHIFT: &[Table] = &[
    t("public.events", "event_time", "revenue", "event_type"),
    t("web.pageviews", "viewed_at", "time_on_page", "url_path"),
    t("web.sessions", "started_at", "duration", "utm_source"),
    t("finance.subscriptions", "started_at", "mrr", "plan"),
    t("finance.revenue", "booked_at", "amount", "region"),
];
const MYSQL: &[Table] = &[
    t("shop.orders", "created_at", "grand_total", "state"),
    t("shop.customers", "registered_at", "orders_count", "city"),
    t("shop.products", "added_at", "price", "category"),
    t(
        "inventory.stock_levels",
        "counted_at",
        "on_hand",
        "warehouse",
    ),
];

/// A generated data source.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Mode's int id (what queries' `data_source_id` holds).
    pub(crate) id: i64,
    /// Its SQL flavour.
    pub(crate) adapter: Adapter,
    /// The object served in `/data_sources`.
    pub(crate) value: Value,
}

impl Source {
    /// A table name as a catalog canonicalises it for this source:
    /// `schema.table` gets the source's database in front (BigQuery's project
    /// is its `host`; on MySQL a two-part name is already `database.table`);
    /// a three-part name is kept.
    pub(crate) fn canonical(&self, name: &str) -> String {
        let field = if self.adapter == Adapter::BigQuery {
            "host"
        } else {
            "database"
        };
        let database = self.value[field].as_str().unwrap_or_default();
        let parts = name.split('.').count();
        if parts == 2 && self.adapter != Adapter::MySql && !database.is_empty() {
            format!("{}.{name}", database.to_lowercase())
        } else {
            name.to_owned()
        }
    }
}

/// (name, adapter, database, host, port, vendor) of each possible source.
const SOURCES: [(&str, Adapter, &str, &str, u16, &str); 6] = [
    (
        "Postgres Production",
        Adapter::Postgres,
        "analytics",
        "pg.internal.example.com",
        5432,
        "postgresql",
    ),
    (
        "Snowflake",
        Adapter::Snowflake,
        "ANALYTICS",
        "acme.eu-west-1.snowflakecomputing.com",
        443,
        "snowflake",
    ),
    (
        "BigQuery",
        Adapter::BigQuery,
        "default",
        "acme-analytics-prod",
        443,
        "bigquery",
    ),
    (
        "Redshift",
        Adapter::Redshift,
        "warehouse",
        "redshift.abc123.us-east-1.redshift.amazonaws.com",
        5439,
        "redshift",
    ),
    (
        "MySQL Shop",
        Adapter::MySql,
        "shop",
        "mysql.internal.example.com",
        3306,
        "mysql",
    ),
    (
        "Postgres Replica",
        Adapter::Postgres,
        "analytics",
        "pg-replica.internal.example.com",
        5432,
        "postgresql",
    ),
];

/// Four to six data sources; PostgreSQL, Snowflake, BigQuery and Redshift are
/// always present.
pub(crate) fn data_sources(g: &mut Gen, account_id: i64) -> Vec<Source> {
    let count = 4 + g.below(3);
    SOURCES
        .iter()
        .take(count)
        .enumerate()
        .map(|(i, spec)| source(g, spec, i == 0, account_id))
        .collect()
}

fn source(
    g: &mut Gen,
    spec: &(&str, Adapter, &str, &str, u16, &str),
    default: bool,
    account_id: i64,
) -> Source {
    let (name, adapter, database, host, port, vendor) = *spec;
    let (id, token) = (g.id(), g.token());
    let created = g.instant();
    let ws = g.ws.clone();
    let self_href = format!("/api/{ws}/data_sources/{token}");
    let warehouse = (adapter == Adapter::Snowflake).then_some("COMPUTE_WH");
    let value = json!({
        "id": id, "name": name,
        "description": if default { Value::Null } else { json!(format!("{name} warehouse")) },
        "token": token, "adapter": adapter.code(),
        "created_at": iso(created), "updated_at": iso(g.later(created, 200)),
        "has_expensive_schema_updates": false, "public": false, "asleep": false,
        "queryable": true, "display_name": name, "account_id": account_id,
        "account_username": ws, "organization_token": "791581e4a2aa",
        "default": default, "default_for_organization_id": "791581e4a2aa",
        "database": database, "host": host, "port": port, "ssl": true,
        "username": "mode_reader", "provider": "default", "vendor": vendor,
        "ldap": false, "warehouse": warehouse, "bridged": false,
        "adapter_version": "1.0.0", "custom_attributes": {"instance_name": ""},
        "default_access_level": "View",
        "_links": {
            "self": link(&self_href),
            "account": link(format!("/api/{ws}")),
            "permissions": link(format!("{self_href}/permissions")),
            "web": link(format!("/organizations/{ws}/data_sources/{token}")),
            "web_home": link(format!("/home/{ws}/data_sources/{token}")),
        },
    });
    Source { id, adapter, value }
}
