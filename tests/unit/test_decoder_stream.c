/*
 * test_decoder_stream.c - the streaming decoder (mqtt5_decoder_mem_recv): a stream of different
 * packets fed whole, one byte at a time and in random chunks gives the same packets; packets
 * whole in the input are views into it (zero copy), split ones live in the decoder's buffer;
 * size limits (cap, max_packet_size) give 0x95; errors are sticky; NEED_MORE eats all input.
 */
#include "helpers/test_common.h"

/* The stream: one packet of most types, a 2-byte-length PUBLISH among them. */
static const char *const stream_hex[] = {
    /* CONNECT with will, username and password */
    "10 31 0004 4d515454 05 ee 001e 05 11 00000e10 0003 636964"
    "07 26 0001 6b 0001 76 0003 772f74 0002 6869 0004 75736572 0003 707764",
    "20 03 01 00 00", /* CONNACK */
    /* PUBLISH QoS 1 with properties and two subscription identifiers */
    "32 1d 0003 612f62 0001 13 01 01 23 0007 0b 01 0b ac02 26 0002 6b31 0002 7631 6869",
    "40 19 0001 10 15 1f 0004 62757379 26 0001 61 0001 62 26 0001 63 0001 64", /* PUBACK */
    "82 26 0002 0a 0b 9601 26 0001 75 0001 76 0003 612f62 01 0003 632f23 2e"
    "000a 2473686172652f672f78 10",          /* SUBSCRIBE */
    "90 07 000a 00 00010280",                /* SUBACK */
    "c0 00",                                 /* PINGREQ */
    NULL,                                    /* (large PUBLISH, built at run time) */
    "a2 0d 000b 00 0003 612f62 0003 632f23", /* UNSUBSCRIBE */
    "62 02 0001",                            /* PUBREL */
    "e0 18 9c 16 11 00000000 1c 0001 73 1f 0003 627965 26 0001 61 0001 62", /* DISCONNECT */
    "f0 00",                                                                /* AUTH */
};
#define NPACKETS COUNT_OF(stream_hex)
#define LARGE_INDEX 7
#define LARGE_PAYLOAD 300

typedef struct stream {
    uint8_t *bytes;
    size_t len;
    size_t start[NPACKETS];
    size_t size[NPACKETS];
    mqtt5_packet ref[NPACKETS]; /* each packet decoded on its own */
} stream;

static void build_stream(stream *s)
{
    const uint8_t *pkt[NPACKETS];
    size_t total = 0;
    for (size_t i = 0; i < NPACKETS; i++) {
        if (i == LARGE_INDEX) {
            uint8_t *payload = test_alloc(LARGE_PAYLOAD);
            for (size_t j = 0; j < LARGE_PAYLOAD; j++)
                payload[j] = (uint8_t)(j ^ 0x5a);
            mqtt5_packet p = {.type = MQTT5_PUBLISH};
            p.u.publish.qos = 2;
            p.u.publish.packet_id = 3;
            p.u.publish.topic = S("big/one");
            p.u.publish.payload = (mqtt5_bytes){payload, LARGE_PAYLOAD};
            pkt[i] = encode_ok(&p, &s->size[i]);
        } else {
            pkt[i] = hex_bytes(stream_hex[i], &s->size[i]);
        }
        decode_buf_ok(pkt[i], s->size[i], &s->ref[i]);
        total += s->size[i];
    }
    s->bytes = test_alloc(total);
    s->len = 0;
    for (size_t i = 0; i < NPACKETS; i++) {
        s->start[i] = s->len;
        memcpy(s->bytes + s->len, pkt[i], s->size[i]);
        s->len += s->size[i];
    }
}

/* Deterministic chunk sizes: a fixed-seed LCG, independent of the C library. */
typedef struct chunker {
    size_t fixed; /* 0 = random */
    uint32_t seed;
    size_t max;
} chunker;

static size_t next_chunk(chunker *c)
{
    if (c->fixed) return c->fixed;
    c->seed = c->seed * 1103515245u + 12345u;
    return 1 + (c->seed >> 16) % c->max;
}

/*
 * Feeds the whole stream in chunks; every chunk is copied into its own exact-size block (so a
 * view can be attributed to it and ASan sees over-reads). Checks every decoded packet against the
 * reference and where its views point.
 */
static void feed(const stream *s, chunker *c, size_t *whole_count, size_t *split_count)
{
    enum { CAP = 1024 };
    uint8_t *dbuf = test_alloc(CAP);
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, dbuf, CAP, 0);
    size_t pos = 0, idx = 0;
    *whole_count = *split_count = 0;
    while (pos < s->len) {
        size_t n = next_chunk(c);
        if (n > s->len - pos) n = s->len - pos;
        uint8_t *in = test_alloc(n);
        memcpy(in, s->bytes + pos, n);
        size_t off = 0;
        while (off < n) {
            size_t pending = dec.len, consumed = 12345;
            mqtt5_packet out;
            mqtt5_codec_status st;
            int rc = mqtt5_decoder_mem_recv(&dec, in + off, n - off, &consumed, &out, &st);
            if (rc == MQTT5_ERR_NEED_MORE) {
                assert_int_equal(consumed, n - off); /* all input used */
                break;
            }
            assert_err(rc, MQTT5_OK);
            assert_true(idx < NPACKETS);
            assert_true(consumed >= 1 && consumed <= n - off);
            assert_int_equal(pending + consumed, s->size[idx]);
            assert_packet_equal(&s->ref[idx], &out);
            if (pending == 0) {
                /* Whole in this input: a view into it, at its place. */
                assert_packet_views_inside(&out, in + off, consumed);
                (*whole_count)++;
            } else {
                assert_packet_views_inside(&out, dbuf, CAP);
                (*split_count)++;
            }
            assert_int_equal(dec.len, 0);
            off += consumed;
            idx++;
        }
        pos += n;
    }
    assert_int_equal(idx, NPACKETS);
    assert_int_equal(dec.len, 0);
}

static void stream_all_at_once(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    chunker c = {.fixed = s.len};
    size_t whole, split;
    feed(&s, &c, &whole, &split);
    assert_int_equal(whole, NPACKETS); /* nothing copied */
    assert_int_equal(split, 0);
}

static void stream_byte_by_byte(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    chunker c = {.fixed = 1};
    size_t whole, split;
    feed(&s, &c, &whole, &split);
    assert_int_equal(whole, 0); /* every packet is at least 2 bytes, so every one is split */
    assert_int_equal(split, NPACKETS);
}

static void stream_random_chunks(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    static const struct {
        uint32_t seed;
        size_t max;
    } runs[] = {{1, 7}, {42, 37}, {2024, 150}, {7, 400}};
    for (size_t r = 0; r < COUNT_OF(runs); r++) {
        chunker c = {.fixed = 0, .seed = runs[r].seed, .max = runs[r].max};
        size_t whole, split;
        feed(&s, &c, &whole, &split);
        assert_int_equal(whole + split, NPACKETS);
    }
}

/* Splits at every possible point of the two-packet stream PUBLISH(300) + PINGREQ. */
static void stream_every_split_point(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    size_t a = s.start[LARGE_INDEX], total = s.size[LARGE_INDEX] + 2;
    const uint8_t *src = s.bytes + a;
    uint8_t *joined = test_alloc(total);
    memcpy(joined, src, total - 2);
    memcpy(joined + total - 2, "\xc0\x00", 2);
    for (size_t cut = 0; cut <= total; cut++) {
        uint8_t dbuf[512];
        mqtt5_decoder dec;
        mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 0);
        uint8_t *first = test_alloc(cut), *second = test_alloc(total - cut);
        memcpy(first, joined, cut);
        memcpy(second, joined + cut, total - cut);
        mqtt5_packet out;
        mqtt5_codec_status st;
        size_t consumed, got = 0, off = 0;
        int rc;
        while ((rc = mqtt5_decoder_mem_recv(&dec, first + off, cut - off, &consumed, &out, &st)) ==
               MQTT5_OK) {
            got++;
            off += consumed;
        }
        assert_err(rc, MQTT5_ERR_NEED_MORE);
        off = 0;
        while (off < total - cut &&
               (rc = mqtt5_decoder_mem_recv(&dec, second + off, total - cut - off, &consumed, &out,
                                            &st)) == MQTT5_OK) {
            got++;
            if (got == 1)
                assert_packet_equal(&s.ref[LARGE_INDEX], &out);
            else
                assert_int_equal(out.type, MQTT5_PINGREQ);
            off += consumed;
        }
        assert_int_equal(got, 2);
    }
}

static void need_more_consumes_everything(void **state)
{
    (void)state;
    uint8_t dbuf[64];
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 0);
    mqtt5_packet out;
    mqtt5_codec_status st;
    size_t consumed = 99;
    /* No input at all. */
    assert_err(mqtt5_decoder_mem_recv(&dec, dbuf, 0, &consumed, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 0);
    /* A fixed header split inside its length. */
    size_t n;
    const uint8_t *part = hex_bytes("30", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, part, n, &consumed, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 1);
    part = hex_bytes("08 0003 61", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, part, n, &consumed, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, n);
    part = hex_bytes("2f62 00 6869 c0", &n); /* the rest plus the first byte of a PINGREQ */
    assert_err(mqtt5_decoder_mem_recv(&dec, part, n, &consumed, &out, &st), MQTT5_OK);
    assert_int_equal(consumed, 5); /* 10-byte packet, 5 bytes were already held */
    assert_str_eq(out.u.publish.topic, "a/b");
    assert_bytes_hex(out.u.publish.payload, "6869");
    assert_err(mqtt5_decoder_mem_recv(&dec, part + 5, 1, &consumed, &out, &st),
               MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 1);
    part = hex_bytes("00", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, part, n, &consumed, &out, &st), MQTT5_OK);
    assert_int_equal(out.type, MQTT5_PINGREQ);
}

/* mqtt5_packet_decode on a partial packet: NEED_MORE, nothing consumed, the size once known. */
static void decode_need_more_reports_size(void **state)
{
    (void)state;
    mqtt5_packet out;
    mqtt5_codec_status st;
    size_t n, consumed = 7;
    const uint8_t *b = hex_bytes("30 08 0003", &n);
    assert_err(mqtt5_packet_decode(b, n, 0, &out, &consumed, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 0);
    assert_int_equal(st.offset, 10);
    b = hex_bytes("30 ac02", &n); /* remaining length 300 */
    assert_err(mqtt5_packet_decode(b, n, 0, &out, &consumed, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(st.offset, 303);
    b = hex_bytes("30 ac", &n);
    assert_err(mqtt5_packet_decode(b, n, 0, &out, &consumed, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 0);
}

/* A packet bigger than the decoder's buffer is refused with 0x95, split or not. */
static void bigger_than_cap(void **state)
{
    (void)state;
    uint8_t *payload = test_alloc(100);
    memset(payload, 1, 100);
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.topic = S("t");
    p.u.publish.payload = (mqtt5_bytes){payload, 100};
    size_t len;
    const uint8_t *enc = encode_ok(&p, &len); /* 2 + 3 + 1 + 100 = 106 bytes */
    assert_int_equal(len, 106);

    for (int whole = 0; whole <= 1; whole++) {
        uint8_t dbuf[64];
        mqtt5_decoder dec;
        mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 0);
        mqtt5_packet out;
        mqtt5_codec_status st;
        size_t consumed;
        /* Either everything, or just the fixed header: the size is known from it. */
        int rc = mqtt5_decoder_mem_recv(&dec, enc, whole ? len : 2, &consumed, &out, &st);
        assert_err(rc, MQTT5_ERR_PACKET_TOO_LARGE);
        assert_status(&st, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    }

    /* cap equal to the packet size is enough, even byte by byte. */
    uint8_t *dbuf = test_alloc(len);
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, dbuf, len, 0);
    mqtt5_packet out;
    mqtt5_codec_status st;
    size_t consumed;
    for (size_t i = 0; i + 1 < len; i++)
        assert_err(mqtt5_decoder_mem_recv(&dec, enc + i, 1, &consumed, &out, &st),
                   MQTT5_ERR_NEED_MORE);
    assert_err(mqtt5_decoder_mem_recv(&dec, enc + len - 1, 1, &consumed, &out, &st), MQTT5_OK);
    assert_int_equal(out.u.publish.payload.len, 100);
    assert_view_inside(out.u.publish.payload.ptr, 100, dbuf, len);

    /* max_packet_size below cap also applies. */
    uint8_t big[512];
    mqtt5_decoder_init(&dec, big, sizeof(big), 105);
    assert_err(mqtt5_decoder_mem_recv(&dec, enc, len, &consumed, &out, &st),
               MQTT5_ERR_PACKET_TOO_LARGE);
    assert_status(&st, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    mqtt5_decoder_init(&dec, big, sizeof(big), 106);
    assert_err(mqtt5_decoder_mem_recv(&dec, enc, len, &consumed, &out, &st), MQTT5_OK);
}

/* After an error the stream cannot be trusted: every later call returns the same error. */
static void errors_are_sticky(void **state)
{
    (void)state;
    uint8_t dbuf[64];
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 0);
    size_t n, consumed;
    /* PINGREQ, then a PUBREL with bad flags, then a good PINGREQ. */
    const uint8_t *in = hex_bytes("c0 00 60 02 0001 c0 00", &n);
    mqtt5_packet out;
    mqtt5_codec_status st;
    assert_err(mqtt5_decoder_mem_recv(&dec, in, n, &consumed, &out, &st), MQTT5_OK);
    assert_int_equal(consumed, 2);
    assert_err(mqtt5_decoder_mem_recv(&dec, in + 2, n - 2, &consumed, &out, &st),
               MQTT5_ERR_MALFORMED_PACKET);
    assert_status(&st, MQTT5_ERR_MALFORMED_PACKET, 0x81, 0); /* relative to the bad packet */
    for (int i = 0; i < 3; i++) {
        mqtt5_codec_status again;
        memset(&again, 0, sizeof(again));
        assert_err(mqtt5_decoder_mem_recv(&dec, in + 6, 2, &consumed, &out, &again),
                   MQTT5_ERR_MALFORMED_PACKET);
        assert_int_equal(again.error, MQTT5_ERR_MALFORMED_PACKET);
        assert_int_equal(again.reason_code, 0x81);
    }
    assert_err(mqtt5_decoder_mem_recv(&dec, in, 0, &consumed, &out, &st),
               MQTT5_ERR_MALFORMED_PACKET);

    /* Same for an error found in a split packet and for 0x95. */
    mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 0);
    in = hex_bytes("32 0a 0003 612f62 0000 00 6869", &n); /* packet id 0 */
    assert_err(mqtt5_decoder_mem_recv(&dec, in, 4, &consumed, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_err(mqtt5_decoder_mem_recv(&dec, in + 4, n - 4, &consumed, &out, &st),
               MQTT5_ERR_PROTOCOL_ERROR);
    assert_status(&st, MQTT5_ERR_PROTOCOL_ERROR, 0x82, 7);
    in = hex_bytes("c0 00", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, in, n, &consumed, &out, &st), MQTT5_ERR_PROTOCOL_ERROR);
    assert_int_equal(st.reason_code, 0x82);

    mqtt5_decoder_init(&dec, dbuf, sizeof(dbuf), 10);
    in = hex_bytes("30 ff 01", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, in, n, &consumed, &out, &st),
               MQTT5_ERR_PACKET_TOO_LARGE);
    in = hex_bytes("c0 00", &n);
    assert_err(mqtt5_decoder_mem_recv(&dec, in, n, &consumed, &out, &st),
               MQTT5_ERR_PACKET_TOO_LARGE);
    assert_int_equal(st.reason_code, 0x95);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_all_at_once),
        cmocka_unit_test(stream_byte_by_byte),
        cmocka_unit_test(stream_random_chunks),
        cmocka_unit_test(stream_every_split_point),
        cmocka_unit_test(need_more_consumes_everything),
        cmocka_unit_test(decode_need_more_reports_size),
        cmocka_unit_test(bigger_than_cap),
        cmocka_unit_test(errors_are_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
