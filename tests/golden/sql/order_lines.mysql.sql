CREATE TABLE order_lines (
  id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'Surrogate key.',
  OrderId CHAR(36) NOT NULL,
  sku VARCHAR(32) NOT NULL,
  title LONGTEXT COMMENT 'What the customer saw.',
  quantity INT NOT NULL,
  unit_price DECIMAL(10, 2) NOT NULL,
  status VARCHAR(9) NOT NULL DEFAULT 'open',
  gift BOOLEAN NOT NULL DEFAULT FALSE,
  tags JSON NOT NULL,
  attributes JSON,
  weight DOUBLE,
  ship_on DATE,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  receipt LONGBLOB,
  `order` SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  CONSTRAINT uq_order_lines_OrderId_sku UNIQUE (OrderId, sku),
  CONSTRAINT fk_order_lines_OrderId FOREIGN KEY (OrderId) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT ck_order_lines_sku CHECK (CHAR_LENGTH(sku) >= 3),
  CONSTRAINT ck_order_lines_quantity CHECK (quantity >= 1),
  CONSTRAINT ck_order_lines_unit_price CHECK (unit_price >= 0),
  CONSTRAINT ck_order_lines_status CHECK (status IN ('open', 'shipped', 'cancelled'))
) ENGINE=InnoDB DEFAULT CHARACTER SET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='One line of a customer''s order.';

CREATE INDEX ix_order_lines_status ON order_lines(status, created_at);
