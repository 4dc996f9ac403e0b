-- The demo company's customer database: the production data the backups protect.
CREATE TABLE customers (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(200) NOT NULL UNIQUE,
    country CHAR(2) NOT NULL,
    created_at DATETIME NOT NULL,
    marketing_opt_in TINYINT(1) NOT NULL
);

CREATE TABLE orders (
    id INT NOT NULL PRIMARY KEY,
    customer_id INT NOT NULL,
    placed_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL,
    total_pence INT NOT NULL,
    CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
);

CREATE TABLE order_items (
    id INT NOT NULL PRIMARY KEY,
    order_id INT NOT NULL,
    sku VARCHAR(32) NOT NULL,
    quantity INT NOT NULL,
    unit_pence INT NOT NULL,
    CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id)
);

CREATE TABLE support_tickets (
    id INT NOT NULL PRIMARY KEY,
    customer_id INT NOT NULL,
    opened_at DATETIME NOT NULL,
    subject VARCHAR(200) NOT NULL,
    status VARCHAR(16) NOT NULL,
    CONSTRAINT fk_tickets_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
);
