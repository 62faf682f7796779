//! The storage conformance suite on a fresh PostgreSQL database per test.
comanda_store::conformance_suite!(comanda_testkit::postgres_harness);
