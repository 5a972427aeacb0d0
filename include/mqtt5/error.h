/*
 * mqtt5/error.h - the one error vocabulary of the SDK.
 *
 * Every call returns an int: 0 (MQTT5_OK) on success, a negative mqtt5_error on failure.
 * mqtt5_error_name() gives the constant's name ("MQTT5_ERR_MALFORMED_PACKET") and
 * mqtt5_error_str() a one-line message; both return static strings and never fail.
 */
#ifndef MQTT5_ERROR_H
#define MQTT5_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Values are stable: never renumber, only append. */
#define MQTT5_ERROR_MAP(X)                                                                         \
    X(MQTT5_OK, 0, "success")                                                                      \
    X(MQTT5_ERR_NEED_MORE, -1, "more input bytes are needed to complete the packet")               \
    X(MQTT5_ERR_NOMEM, -2, "out of memory")                                                        \
    X(MQTT5_ERR_INVALID_ARGUMENT, -3, "invalid argument")                                          \
    X(MQTT5_ERR_BUFFER_TOO_SMALL, -4, "output buffer too small")                                   \
    X(MQTT5_ERR_MALFORMED_PACKET, -5, "malformed packet")                                          \
    X(MQTT5_ERR_PROTOCOL_ERROR, -6, "protocol error")                                              \
    X(MQTT5_ERR_PACKET_TOO_LARGE, -7, "packet exceeds the maximum packet size")                    \
    X(MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION, -8, "unsupported protocol version")                  \
    X(MQTT5_ERR_TOPIC_ALIAS_INVALID, -9, "topic alias invalid")                                    \
    X(MQTT5_ERR_INVALID_PACKET, -10, "packet fields violate the MQTT 5 specification")             \
    X(MQTT5_ERR_INVALID_UTF8, -11, "string is not valid MQTT UTF-8")                               \
    X(MQTT5_ERR_INVALID_TOPIC, -12, "invalid topic name or topic filter")                          \
    X(MQTT5_ERR_PARSE, -13, "input text could not be parsed")                                      \
    X(MQTT5_ERR_IO, -14, "input/output error")                                                     \
    X(MQTT5_ERR_INVALID_STATE, -15, "operation not possible in the current state")                 \
    X(MQTT5_ERR_BUSY, -16, "call not allowed from inside a callback")                              \
    X(MQTT5_ERR_QUEUE_FULL, -17, "operation queue is full")                                        \
    X(MQTT5_ERR_OFFLINE_POLICY, -18, "operation failed by the offline queue policy")               \
    X(MQTT5_ERR_STOPPED, -19, "client was stopped")                                                \
    X(MQTT5_ERR_ACK_TIMEOUT, -20, "no acknowledgement within the operation timeout")               \
    X(MQTT5_ERR_CONNACK_TIMEOUT, -21, "no CONNACK within the connect timeout")                     \
    X(MQTT5_ERR_CONNACK_REFUSED, -22, "server refused the connection (CONNACK reason >= 0x80)")    \
    X(MQTT5_ERR_SESSION_PRESENT, -23, "server resumed a session although a clean start was asked") \
    X(MQTT5_ERR_PING_TIMEOUT, -24, "no PINGRESP within the ping timeout")                          \
    X(MQTT5_ERR_SERVER_DISCONNECT, -25, "server sent DISCONNECT")                                  \
    X(MQTT5_ERR_CONNECTION_CLOSED, -26, "connection closed")                                       \
    X(MQTT5_ERR_NOT_AVAILABLE, -27, "feature not available on this server")                        \
    X(MQTT5_ERR_IOT_CORE_LIMIT, -28, "exceeds an AWS IoT Core limit")                              \
    X(MQTT5_ERR_STALE_HANDLE, -29, "handle belongs to an earlier connection or was already used")  \
    X(MQTT5_ERR_ACK_REASON, -30, "server acknowledged with a failure reason code (>= 0x80)")       \
    X(MQTT5_ERR_DNS, -31, "host name could not be resolved")                                       \
    X(MQTT5_ERR_CONNECT_REFUSED, -32, "connection refused by the server")                          \
    X(MQTT5_ERR_CONNECT_TIMEOUT, -33, "connection not established within the connect timeout")     \
    X(MQTT5_ERR_TLS_UNTRUSTED_CERT, -34, "server certificate is not trusted")                      \
    X(MQTT5_ERR_TLS_HOSTNAME_MISMATCH, -35, "server certificate does not match the host name")     \
    X(MQTT5_ERR_TLS_CERT_EXPIRED, -36, "server certificate expired or not yet valid")              \
    X(MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED, -37, "server requires a client certificate")             \
    X(MQTT5_ERR_TLS_CLIENT_CERT_REJECTED, -38, "server rejected the client certificate")           \
    X(MQTT5_ERR_TLS_ALPN_REJECTED, -39, "server accepts none of the offered ALPN protocols")       \
    X(MQTT5_ERR_TLS_HANDSHAKE, -40, "TLS handshake failed")                                        \
    X(MQTT5_ERR_TLS_CREDENTIALS, -41, "TLS certificate or key unusable")                           \
    X(MQTT5_ERR_FILE, -42, "file could not be read")                                               \
    X(MQTT5_ERR_TIMEOUT, -43, "wait timed out")                                                    \
    X(MQTT5_ERR_NOT_SUPPORTED, -44, "not supported by this build")                                 \
    X(MQTT5_ERR_WOULD_DEADLOCK, -45, "blocking wait on an event-loop thread would deadlock")       \
    X(MQTT5_ERR_TERMINATED, -46, "client was released")                                            \
    X(MQTT5_ERR_WEBSOCKET_HANDSHAKE, -47, "WebSocket upgrade refused or invalid")                  \
    X(MQTT5_ERR_WEBSOCKET_PROTOCOL, -48, "WebSocket protocol violation")                           \
    X(MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE, -49, "WebSocket frame exceeds the size limit")          \
    X(MQTT5_ERR_PROVIDER_NOT_ENABLED, -50,                                                         \
      "credentials provider not configured in this environment")                                   \
    X(MQTT5_ERR_MALFORMED, -51, "malformed file or document")                                      \
    X(MQTT5_ERR_HTTP_STATUS, -52, "HTTP request answered with an error status")                    \
    X(MQTT5_ERR_CREDENTIALS_EXPIRED, -53, "credentials expired")                                   \
    X(MQTT5_ERR_NOT_FOUND, -54, "not found")                                                       \
    X(MQTT5_ERR_PROCESS, -55, "credential process failed")                                         \
    X(MQTT5_ERR_PROXY, -56, "proxy refused or failed the tunnel")

typedef enum mqtt5_error {
#define MQTT5_ERROR_ENUM_(name, value, msg) name = value,
    MQTT5_ERROR_MAP(MQTT5_ERROR_ENUM_)
#undef MQTT5_ERROR_ENUM_
} mqtt5_error;

/* "MQTT5_ERR_..." for a known code, "MQTT5_ERR_UNKNOWN" otherwise. */
const char *mqtt5_error_name(int err);
/* Human-readable message for a code; "unknown error" otherwise. */
const char *mqtt5_error_str(int err);

#ifdef __cplusplus
}
#endif
#endif
