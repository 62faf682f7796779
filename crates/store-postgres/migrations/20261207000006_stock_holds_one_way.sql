-- Stock that open orders hold. A product whose stock is counted and may not go below
-- zero is taken from what is available when its line is written: `held` is what open
-- orders hold of a level, and `stock_holds` what each order holds, so that removing,
-- voiding or cancelling gives exactly those units back, and the sale of a paid order
-- takes them from `on_hand` and gives the hold back in one write. One way: a binary
-- without holds would sell and never give them back.
ALTER TABLE stock_levels ADD COLUMN held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0);

CREATE TABLE stock_holds (
    store_id   UUID   NOT NULL REFERENCES stores (id),
    order_id   UUID   NOT NULL REFERENCES orders (id),
    variant_id UUID   NOT NULL REFERENCES product_variants (id),
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, variant_id)
);
