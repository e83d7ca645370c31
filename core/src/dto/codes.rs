//! Stable error codes the clients branch on.

pub const INVALID_INPUT: &str = "invalid_input";
pub const INVALID_PHONE: &str = "invalid_phone";
pub const INVALID_CODE: &str = "invalid_code";
pub const CONSENT_REQUIRED: &str = "consent_required";
pub const NAME_REQUIRED: &str = "name_required";
/// A sign-up field the brand requires (birthday, gender, city) is missing.
pub const FIELD_REQUIRED: &str = "field_required";
/// An import file that can't be read (empty, no header, no phone column).
pub const INVALID_FILE: &str = "invalid_file";
pub const OTP_EXPIRED: &str = "otp_expired";
pub const OTP_LOCKED: &str = "otp_locked";
pub const RATE_LIMITED: &str = "rate_limited";
pub const UNAUTHENTICATED: &str = "unauthenticated";
pub const FORBIDDEN: &str = "forbidden";
pub const NOT_FOUND: &str = "not_found";
pub const BAD_CREDENTIALS: &str = "bad_credentials";
pub const CARD_CODE_MALFORMED: &str = "card_code_malformed";
pub const CARD_CODE_INVALID: &str = "card_code_invalid";
pub const CARD_CODE_EXPIRED: &str = "card_code_expired";
pub const CARD_CODE_USED: &str = "card_code_used";
/// Too many wrong card codes from this staff account, store or for this member number
/// at this store in the current window (429 with Retry-After); the card is not locked.
pub const TOO_MANY_WRONG_CODES: &str = "too_many_wrong_codes";
pub const INVALID_AMOUNT: &str = "invalid_amount";
pub const DUPLICATE_ORDER: &str = "duplicate_order";
pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
pub const REQUEST_IN_PROGRESS: &str = "request_in_progress";
pub const INTERNAL: &str = "internal";
/// A named coupon is not in this member's wallet (unknown, or another member's:
/// the same answer, so ids can't be probed).
pub const COUPON_NOT_FOUND: &str = "coupon_not_found";
/// The coupon was used already (409).
pub const COUPON_USED: &str = "coupon_used";
pub const COUPON_EXPIRED: &str = "coupon_expired";
pub const COUPON_NOT_YET_VALID: &str = "coupon_not_yet_valid";
/// The basket is below the coupon's minimum spend.
pub const COUPON_MIN_SPEND: &str = "coupon_min_spend";
/// Not valid in this store.
pub const COUPON_WRONG_STORE: &str = "coupon_wrong_store";
/// A non-stackable coupon with others, or two of one kind.
pub const COUPONS_NOT_STACKABLE: &str = "coupons_not_stackable";
/// The same coupon named twice, or too many on one purchase (400).
pub const COUPON_DUPLICATE: &str = "coupon_duplicate";
/// The template's (or the claim link's) total has been given out.
pub const COUPONS_EXHAUSTED: &str = "coupons_exhausted";
/// The birthday was set less than a year ago.
pub const BIRTHDAY_LOCKED: &str = "birthday_locked";
/// A claim link that has ended, not started, or been switched off (410).
pub const CAMPAIGN_CLOSED: &str = "campaign_closed";
/// The staff account is not attached to a store, so it cannot record purchases.
pub const STORE_REQUIRED: &str = "store_required";
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
/// The server gave up on the request (overloaded or a slow dependency).
pub const TIMEOUT: &str = "timeout";
/// A concurrent change got in the way and nothing was applied: send the same
/// request again (503 with Retry-After).
pub const RETRY_LATER: &str = "retry_later";
/// An admin's stock change was based on a count that redemptions have changed since.
pub const STOCK_CHANGED: &str = "stock_changed";
pub const INSUFFICIENT_POINTS: &str = "insufficient_points";
pub const OUT_OF_STOCK: &str = "out_of_stock";
/// The member has redeemed this item as often as allowed.
pub const LIMIT_REACHED: &str = "limit_reached";
/// The item is for a higher tier.
pub const TIER_REQUIRED: &str = "tier_required";
/// Hidden, not yet on sale, or no longer on sale.
pub const ITEM_UNAVAILABLE: &str = "item_unavailable";
pub const INVALID_QUANTITY: &str = "invalid_quantity";
/// The order was already collected, cancelled or refunded.
pub const ORDER_CLOSED: &str = "order_closed";
/// The purchase was already refunded.
pub const ALREADY_REFUNDED: &str = "already_refunded";
/// A refund larger than what is left of the purchase to refund (422).
pub const REFUND_TOO_LARGE: &str = "refund_too_large";
/// A purchase by `member_no` without a valid look-up of this member in this staff
/// session (403).
pub const LOOKUP_REQUIRED: &str = "lookup_required";
/// The look-up token has expired: look the member up again (410).
pub const LOOKUP_EXPIRED: &str = "lookup_expired";
/// A tier program version that breaks the program's rules (message says which).
pub const INVALID_PROGRAM: &str = "invalid_program";
/// 403: a browser request with a session cookie from another site (CSRF).
pub const CROSS_ORIGIN: &str = "cross_origin";
/// 415: a body of the wrong type (the import wants text/csv).
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
