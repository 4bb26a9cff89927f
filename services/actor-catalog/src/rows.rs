//! Row shapes that more than one read selects, and the one way each becomes its proto message. `sqlx`
//! matches columns by name, so a query fills one of these by selecting (or aliasing) the columns it lists; a
//! larger row embeds one with `#[sqlx(flatten)]`.

use iknow_proto::catalog::v1::{CastMember, ContentRef, ContentType};
use uuid::Uuid;

/// A reference to a title from its columns; `content_type` as stored (`movie`, `series`, `episode`).
pub fn content_ref(
    id: Uuid,
    imdb_id: Option<String>,
    title: String,
    content_type: &str,
    year: Option<i32>,
) -> ContentRef {
    ContentRef {
        id: id.to_string(),
        imdb_id: imdb_id.unwrap_or_default(),
        title,
        content_type: ContentType::from_name(content_type).into(),
        year,
    }
}

/// A reference to a title that may be missing (a `LEFT JOIN`ed parent or series): `None` without an id.
pub fn maybe_content_ref(
    id: Option<Uuid>,
    imdb_id: Option<String>,
    title: Option<String>,
    content_type: Option<&str>,
    year: Option<i32>,
) -> Option<ContentRef> {
    id.map(|id| content_ref(id, imdb_id, title.unwrap_or_default(), content_type.unwrap_or_default(), year))
}

/// A title as a reference: columns `id, imdb_id, title, content_type, year` (the release year as `int4`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TitleRefRow {
    pub id: Uuid,
    pub imdb_id: Option<String>,
    pub title: String,
    pub content_type: String,
    pub year: Option<i32>,
}

impl TitleRefRow {
    pub fn content_ref(&self) -> ContentRef {
        content_ref(self.id, self.imdb_id.clone(), self.title.clone(), &self.content_type, self.year)
    }
}

impl From<TitleRefRow> for ContentRef {
    fn from(r: TitleRefRow) -> Self {
        content_ref(r.id, r.imdb_id, r.title, &r.content_type, r.year)
    }
}

/// One member of a title's cast: columns `actor_id, actor_imdb_id, actor_name, role_name, characters, category,
/// credit_order, profile_image_url` (a credit joined with its actor).
#[derive(Debug, sqlx::FromRow)]
pub struct CastRow {
    pub actor_id: Uuid,
    pub actor_imdb_id: Option<String>,
    pub actor_name: String,
    pub role_name: String,
    pub characters: Vec<String>,
    pub category: String,
    pub credit_order: Option<i32>,
    pub profile_image_url: Option<String>,
}

impl From<CastRow> for CastMember {
    fn from(r: CastRow) -> Self {
        CastMember {
            actor_id: r.actor_id.to_string(),
            actor_imdb_id: r.actor_imdb_id.unwrap_or_default(),
            actor_name: r.actor_name,
            role_name: r.role_name,
            characters: r.characters,
            category: r.category,
            credit_order: r.credit_order.unwrap_or_default(),
            profile_image_url: r.profile_image_url.unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// A credit that may be missing (`LEFT JOIN`ed to an actor): columns `content_id, imdb_id, title, content_type,
/// year` of the credited title and `role_name, characters, category, credit_order` of the credit, all null
/// when the actor has none.
#[derive(Debug, sqlx::FromRow)]
pub struct JoinedCreditRow {
    pub content_id: Option<Uuid>,
    pub imdb_id: Option<String>,
    pub title: Option<String>,
    pub content_type: Option<String>,
    pub year: Option<i32>,
    pub role_name: Option<String>,
    pub characters: Option<Vec<String>>,
    pub category: Option<String>,
    pub credit_order: Option<i32>,
}

/// What a credit says of the role, as the proto messages carry it (empty when unknown).
#[derive(Debug, Default)]
pub struct Role {
    pub role_name: String,
    pub characters: Vec<String>,
    pub category: String,
    pub credit_order: i32,
}

impl JoinedCreditRow {
    /// The credited title and the role; `None` when there is no credit.
    pub fn into_credit(self) -> Option<(ContentRef, Role)> {
        let content =
            maybe_content_ref(self.content_id, self.imdb_id, self.title, self.content_type.as_deref(), self.year)?;
        let role = Role {
            role_name: self.role_name.unwrap_or_default(),
            characters: self.characters.unwrap_or_default(),
            category: self.category.unwrap_or_default(),
            credit_order: self.credit_order.unwrap_or_default(),
        };
        Some((content, role))
    }
}
