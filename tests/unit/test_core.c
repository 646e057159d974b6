/* SPDX-License-Identifier: MIT */
/* Unit tests for src/core: status table, sticky buffers and cursors, region allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void
test_every_status_has_a_message_and_an_id(void **state)
{
	(void)state;
	static const int all[] = {
		TDNS_OK, TDNS_ENOENT, TDNS_EIO, TDNS_EAGAIN, TDNS_ENOMEM, TDNS_EACCES, TDNS_EEXIST,
		TDNS_EINVAL, TDNS_ERANGE, TDNS_EMALFORMED, TDNS_ETRUNC, TDNS_ELOOP, TDNS_ENAMELONG,
		TDNS_ELABELLONG, TDNS_ESPACE, TDNS_EBADTEXT, TDNS_EUNKTYPE, TDNS_EBADRDATA,
		TDNS_ERELATIVE, TDNS_ENOZONE, TDNS_EZONEEXISTS, TDNS_ENOSOA, TDNS_ENOAPEXNS,
		TDNS_ECNAME, TDNS_EOUTOFZONE, TDNS_ENOGLUE, TDNS_EZONEFILE, TDNS_EMULTISOA,
		TDNS_ECONFIG,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_string_not_equal(tdns_status_msg(all[i]), "unknown error");
		assert_string_not_equal(tdns_status_id(all[i]), "EUNKNOWN");
		/* ids are unique */
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(tdns_status_id(all[i]), tdns_status_id(all[j]));
		}
	}
	assert_string_equal(tdns_status_id(TDNS_ENAMELONG), "ENAMELONG");
	assert_string_equal(tdns_status_msg(12345), "unknown error");
}

static void
test_buf_error_is_sticky_and_writes_nothing_past_cap(void **state)
{
	(void)state;
	uint8_t mem[5] = { 0 };
	struct tdns_buf b;
	tdns_buf_init(&b, mem, 4);
	tdns_buf_u16(&b, 0x0102);
	tdns_buf_u8(&b, 3);
	assert_false(b.err);
	tdns_buf_u16(&b, 0x0405); /* needs 2, only 1 left */
	assert_true(b.err);
	tdns_buf_u8(&b, 9);        /* would fit, but the error is sticky */
	assert_int_equal(b.len, 3);
	assert_int_equal(mem[3], 0);
	assert_int_equal(mem[4], 0);
}

static void
test_buf_u32_and_bytes(void **state)
{
	(void)state;
	uint8_t mem[16];
	struct tdns_buf b;
	tdns_buf_init(&b, mem, sizeof(mem));
	tdns_buf_u32(&b, 0xdeadbeef);
	tdns_buf_bytes(&b, "abc", 3);
	tdns_buf_bytes(&b, NULL, 0);
	assert_false(b.err);
	static const uint8_t want[] = { 0xde, 0xad, 0xbe, 0xef, 'a', 'b', 'c' };
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(mem, want, sizeof(want));
}

static void
test_cursor_reads_past_end_return_zero_and_set_err(void **state)
{
	(void)state;
	static const uint8_t mem[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct tdns_rd r;
	tdns_rd_init(&r, mem, sizeof(mem));
	assert_int_equal(tdns_rd_u32(&r), 0x12345678);
	assert_int_equal(tdns_rd_left(&r), 1);
	assert_int_equal(tdns_rd_u16(&r), 0);
	assert_true(r.err);
	assert_int_equal(tdns_rd_u8(&r), 0);
	assert_null(tdns_rd_bytes(&r, 1));
	assert_int_equal(tdns_rd_left(&r), 0);
}

static void
test_region_allocations_are_aligned_and_survive_until_reset(void **state)
{
	(void)state;
	struct tdns_region *r = tdns_region_new(128);
	assert_non_null(r);
	char *a = tdns_region_dup(r, "hello", 6);
	for (int i = 0; i < 100; i++) {
		uint8_t *p = tdns_region_alloc(r, (size_t)i + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)i + 1);
	}
	void *big = tdns_region_alloc(r, 4096); /* larger than a chunk */
	assert_non_null(big);
	memset(big, 1, 4096);
	assert_string_equal(a, "hello");
	tdns_region_reset(r);
	assert_non_null(tdns_region_alloc(r, 64));
	tdns_region_free(r);
	tdns_region_free(NULL);
}

static void
test_log_level_names_parse(void **state)
{
	(void)state;
	assert_int_equal(tdns_log_level_parse("debug"), TDNS_LOG_DEBUG);
	assert_int_equal(tdns_log_level_parse("ERR"), TDNS_LOG_ERR);
	assert_int_equal(tdns_log_level_parse("warning"), TDNS_LOG_WARNING);
	assert_int_equal(tdns_log_level_parse("loud"), -1);
}

static void
test_ms_text_uses_microseconds_below_a_millisecond(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(tdns_ms_text(0.007, buf, sizeof(buf)), "7 µs");
	assert_string_equal(tdns_ms_text(0.85, buf, sizeof(buf)), "850 µs");
	assert_string_equal(tdns_ms_text(0.0, buf, sizeof(buf)), "0 µs");
	assert_string_equal(tdns_ms_text(0.9999, buf, sizeof(buf)), "1.00 ms");
	assert_string_equal(tdns_ms_text(2.345, buf, sizeof(buf)), "2.35 ms");
	assert_string_equal(tdns_ms_text(135.2, buf, sizeof(buf)), "135 ms");
}

static void
test_hex_value_and_log_level_name(void **state)
{
	(void)state;
	static const struct {
		char c;
		int value;
	} hex[] = { { '7', 7 }, { 'b', 11 }, { 'F', 15 }, { 'g', -1 } };
	for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		assert_int_equal(tdns_hex_value(hex[i].c), hex[i].value);
	}
	/* base32hex (RFC 4648 §7): 0-9 then A-V, either case. */
	static const struct {
		char c;
		int value;
	} b32[] = { { '9', 9 }, { 'a', 10 }, { 'V', 31 }, { 'v', 31 }, { 'w', -1 }, { '\0', -1 } };
	for (size_t i = 0; i < sizeof(b32) / sizeof(b32[0]); i++) {
		assert_int_equal(tdns_digit_value(b32[i].c, 32), b32[i].value);
	}
	assert_string_equal(tdns_log_level_name(TDNS_LOG_WARNING), "warning");
	assert_string_equal(tdns_log_level_name(0), "info");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_status_has_a_message_and_an_id),
		cmocka_unit_test(test_buf_error_is_sticky_and_writes_nothing_past_cap),
		cmocka_unit_test(test_buf_u32_and_bytes),
		cmocka_unit_test(test_cursor_reads_past_end_return_zero_and_set_err),
		cmocka_unit_test(test_region_allocations_are_aligned_and_survive_until_reset),
		cmocka_unit_test(test_log_level_names_parse),
		cmocka_unit_test(test_ms_text_uses_microseconds_below_a_millisecond),
		cmocka_unit_test(test_hex_value_and_log_level_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
