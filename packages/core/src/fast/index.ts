export { CatalogIndex, type SharedCatalogIndex } from "./catalog-index.js";
export { type CatalogScan, scanCatalogFast } from "./catalog-scan.js";
export { CompactKpis, type CompactTransfer, transferList } from "./compact.js";
export { ByteInterner, type SharedInterner, TripleSet } from "./interner.js";
export { FastPathUnsupported, StreamsScanner, scanStreamsFast } from "./scan.js";
