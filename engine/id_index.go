package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"
)

// FerretDB 1.24's SQLite backend creates the `_id` index on `_ferretdb_sjson->"_id"` but finds,
// updates and deletes by `_ferretdb_sjson->'$._id' = ?`. SQLite uses an index on an expression
// only for the identical expression, so every lookup, update and delete by _id scanned the whole
// table (an update took 66 ms at 20,000 documents, 5 ms at 1,000; a find by _id was fast only
// when the document happened to be near the start of the table). keepIDIndexes adds the index
// those statements can use to every collection table, at start and as collections appear.
// FerretDB does not know about it: it is dropped with its table, and re-added if the
// collection is created again.
const idIndexSuffix = "__id_path"

func keepIDIndexes(ctx context.Context, dir string, logger *slog.Logger) {
	dbs := map[string]*sql.DB{}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, f := range files {
			db := dbs[f]
			if db == nil {
				var err error
				db, err = sql.Open("sqlite", "file:"+f+"?mode=rw&_pragma=busy_timeout(10000)")
				if err != nil {
					logger.Warn("id index: open", "file", f, "err", err)
					continue
				}
				db.SetMaxOpenConns(1)
				dbs[f] = db
			}
			addMissingIDIndexes(ctx, db, f, logger)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func addMissingIDIndexes(ctx context.Context, db *sql.DB, file string, logger *slog.Logger) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		return // a database file FerretDB has not initialised yet
	}
	var tables []string
	for rows.Next() {
		var t string
		if rows.Scan(&t) == nil {
			tables = append(tables, t)
		}
	}
	rows.Close()
	for _, t := range tables {
		started := time.Now()
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+idIndexSuffix, t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			// The table may have been dropped meanwhile; the next pass tries again if it still exists.
			logger.Debug("id index: create", "file", file, "table", t, "err", err)
			continue
		}
		if d := time.Since(started); d > time.Second {
			logger.Info("id index: added", "table", t, "took", d)
		}
	}
}
