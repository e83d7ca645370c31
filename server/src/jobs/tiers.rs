//! The tier job: window recounts, decay, evaluations at the end of periods, downgrade
//! warnings and member-day messages. (Being written: see the issue 6 spec.)
