/*
 * test_codec_reencode.c - a decoded packet (repeated items read from the wire through the
 * iterators, arrays NULL) can be handed to the encoder as it is and gives the same bytes back.
 * The inputs are in the encoder's canonical form (properties in ascending identifier order);
 * mqtt-packet 9.0.2 parses each of them to the object named in its comment.
 */
#include "helpers/test_common.h"

static void reencodes_identically(const char *hex)
{
    mqtt5_packet p;
    size_t len, out_len;
    const uint8_t *in = decode_ok(hex, &p, &len);
    uint8_t *out = encode_ok(&p, &out_len);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, in, len);
}

static void connect_with_will_and_user_properties(void **state)
{
    (void)state;
    /* CONNECT: session expiry 10, receive max 5, user props a=b, c=d; will with delay 5 and a
     * user property; username "u", password "p" */
    reencodes_identically("104300044d51545405ee001e16110000000a21000526000161000162260001630001"
                          "6400036162630c1800000005260001780001790003772f74000362796500017500"
                          "0170");
}

static void publish_with_subscription_ids_and_user_properties(void **state)
{
    (void)state;
    /* PUBLISH QoS 1 id 7 "a/b": topic alias 2, subscription ids 1 and 268435455, user prop k=v */
    reencodes_identically("321e0003612f620007112300020b010bffffff7f2600016b00017668656c6c6f");
}

static void subscribe_and_unsubscribe_entries(void **state)
{
    (void)state;
    /* SUBSCRIBE id 3, subscription id 5, "a/+" (QoS 1, nl, rap, rh 2), "$share/g/x/#" QoS 2 */
    reencodes_identically("821a0003020b050003612f2b2d000c2473686172652f672f782f2302");
    /* UNSUBSCRIBE id 4, user prop q=r, "a/b" and "c/#" */
    reencodes_identically("a214000407260001710001720003612f620003632f23");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_with_will_and_user_properties),
        cmocka_unit_test(publish_with_subscription_ids_and_user_properties),
        cmocka_unit_test(subscribe_and_unsubscribe_entries),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
