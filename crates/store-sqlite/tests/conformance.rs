//! The storage conformance suite on a temporary SQLite file per test.
comanda_store::conformance_suite!(comanda_testkit::sqlite_harness);
