CREATE TABLE order_lines (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  OrderId TEXT NOT NULL,
  sku TEXT NOT NULL,
  title TEXT,
  quantity INTEGER NOT NULL,
  unit_price NUMERIC NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  gift INTEGER NOT NULL DEFAULT 0,
  tags TEXT NOT NULL,
  attributes TEXT,
  weight REAL,
  ship_on TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  receipt BLOB,
  "order" INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT uq_order_lines_OrderId_sku UNIQUE (OrderId, sku),
  CONSTRAINT fk_order_lines_OrderId FOREIGN KEY (OrderId) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT ck_order_lines_sku CHECK (LENGTH(sku) >= 3 AND LENGTH(sku) <= 32),
  CONSTRAINT ck_order_lines_quantity CHECK (quantity >= 1),
  CONSTRAINT ck_order_lines_unit_price CHECK (unit_price >= 0),
  CONSTRAINT ck_order_lines_status CHECK (status IN ('open', 'shipped', 'cancelled')),
  CONSTRAINT ck_order_lines_gift CHECK (gift IN (0, 1)),
  CONSTRAINT ck_order_lines_tags CHECK (JSON_VALID(tags)),
  CONSTRAINT ck_order_lines_attributes CHECK (attributes IS NULL OR JSON_VALID(attributes))
);

CREATE INDEX ix_order_lines_status ON order_lines(status, created_at);
