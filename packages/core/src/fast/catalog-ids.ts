import type { ByteInterner } from "./interner.js";

/**
 * Ids a {@link Catalog} was loaded with, already interned by the byte-level catalog reader:
 * `tracks` holds the catalog's track ids in its order (id `i` is the `i`-th track), `users` its
 * user ids. Set by `loadCatalog` when one file of a kind made the whole list, so building a
 * `CatalogIndex` need not encode and intern every id again. Internal to the package.
 */
export const prebuiltIds = new WeakMap<object, { tracks?: ByteInterner; users?: ByteInterner }>();
