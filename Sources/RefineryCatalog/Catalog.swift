import RefineryRecords

/// The SQLite catalog (filled in by the catalog-ops work).
public enum CatalogPlaceholder {}
