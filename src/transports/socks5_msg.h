/*
 * transports/socks5_msg.h - the sans-I/O messages of a SOCKS5 client: the greeting and the
 * CONNECT request of RFC 1928, the username/password request of RFC 1929, and an incremental
 * reader of the three answers (method selection, authentication status, CONNECT reply) that takes
 * bytes in any split and stops exactly at the end of the answer, so whatever follows is left to
 * the caller (it belongs to the tunnel). No I/O, no allocation: the fuzz target builds it alone.
 */
#ifndef MQTT5_TRANSPORTS_SOCKS5_MSG_H
#define MQTT5_TRANSPORTS_SOCKS5_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    MQTT5_SOCKS5_VERSION = 5,
    MQTT5_SOCKS5_AUTH_VERSION = 1, /* RFC 1929 */
    MQTT5_SOCKS5_METHOD_NONE = 0x00,
    MQTT5_SOCKS5_METHOD_USERPASS = 0x02,
    MQTT5_SOCKS5_METHOD_REFUSED = 0xFF,
    MQTT5_SOCKS5_CMD_CONNECT = 0x01,
    MQTT5_SOCKS5_ATYP_IPV4 = 0x01,
    MQTT5_SOCKS5_ATYP_DOMAIN = 0x03,
    MQTT5_SOCKS5_ATYP_IPV6 = 0x04,
};

/* Largest message we write: the username/password request (3 + 255 + 255 bytes). */
#define MQTT5_SOCKS5_MSG_MAX 513u

/* The greeting: no authentication, plus username/password when `userpass`. Returns its length
 * (3 or 4 bytes: 05 01 00, or 05 02 00 02). */
size_t mqtt5_socks5_greeting(bool userpass, uint8_t out[4]);

/* The RFC 1929 request: 01 ULEN USER PLEN PASS. 0 and *len, or MQTT5_ERR_INVALID_ARGUMENT (an
 * empty username, either over 255 bytes) or MQTT5_ERR_BUFFER_TOO_SMALL. password NULL = "". */
int mqtt5_socks5_auth_request(const char *username, const char *password, uint8_t *out, size_t cap,
                              size_t *len);

/* The CONNECT request: 05 01 00 ATYP ADDR PORT. An IPv4 or IPv6 literal goes as such, a name as
 * ATYP domain (the proxy resolves it). 0 and *len, or MQTT5_ERR_INVALID_ARGUMENT (empty, or a
 * name over 255 bytes) or MQTT5_ERR_BUFFER_TOO_SMALL (262 bytes are always enough). */
int mqtt5_socks5_connect_request(const char *host, uint16_t port, uint8_t *out, size_t cap,
                                 size_t *len);

typedef enum mqtt5_socks5_answer {
    MQTT5_SOCKS5_ANSWER_METHOD, /* 05 METHOD */
    MQTT5_SOCKS5_ANSWER_AUTH,   /* 01 STATUS (05 STATUS accepted too) */
    MQTT5_SOCKS5_ANSWER_REPLY,  /* 05 REP 00 ATYP BND.ADDR BND.PORT */
} mqtt5_socks5_answer;

typedef struct mqtt5_socks5_reader {
    mqtt5_socks5_answer kind;
    uint8_t buf[4 + 1 + 255 + 2]; /* the answer so far */
    size_t n, need;               /* bytes held; bytes the answer has (known so far) */
    bool done, failed;
    uint8_t version, code; /* METHOD, STATUS or REP once done */
    uint8_t atyp;          /* of a successful REPLY */
    const char *why;       /* what was wrong, when feed returned MQTT5_ERR_PROXY (static) */
} mqtt5_socks5_reader;

void mqtt5_socks5_reader_init(mqtt5_socks5_reader *r, mqtt5_socks5_answer kind);

/*
 * Take bytes of the answer. *used is how many were taken: never past its end. Returns
 * MQTT5_ERR_NEED_MORE (all taken, more are needed), 0 (the answer is complete: r->code) or
 * MQTT5_ERR_PROXY (a wrong version, reserved byte or address type: r->why). A REPLY whose REP is
 * not 0 completes after its first two bytes (failing servers often send no address). Once it
 * returned 0 or an error, it keeps returning that and takes nothing.
 */
int mqtt5_socks5_reader_feed(mqtt5_socks5_reader *r, const uint8_t *p, size_t n, size_t *used);

/* RFC 1928 REP codes: "succeeded", "general SOCKS server failure", ..., "connection refused by
 * destination host", ...; "unassigned reply code" for 9..255. Static strings. */
const char *mqtt5_socks5_reply_str(uint8_t rep);

#endif
