/* Monotonic and wall clocks. Only the event-loop layer reads it; media logic takes now_ms as a
 * parameter (STYLE.md habit 9). */
#ifndef CR_BASE_CLOCK_H
#define CR_BASE_CLOCK_H

#include <stdint.h>

int64_t cr_now_us(void);
int64_t cr_now_ms(void);
/* Wall clock: milliseconds since 1970 (UTC), for schedules, tokens and stored times. */
int64_t cr_wall_ms(void);
/* Wall clock as a 64-bit NTP timestamp (RFC 3550 §4: seconds since 1900 in 32.32). */
uint64_t cr_ntp_now(void);

#endif
