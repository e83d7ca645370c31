-- Fixed-window counters for limits that must hold under parallel requests and across
-- server instances (a count-then-insert would overshoot). One row per limited thing,
-- e.g. `otp-ip:203.0.113.7`, `login-user:cashier`, `login-ip:203.0.113.7`.
CREATE TABLE rate_counters (
    counter_key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
