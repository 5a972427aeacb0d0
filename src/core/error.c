/*
 * error.c - names and messages of mqtt5_error codes (the table lives in mqtt5/error.h).
 */
#include "mqtt5/error.h"

const char *mqtt5_error_name(int err)
{
    switch (err) {
#define MQTT5_ERROR_NAME_(name, value, msg)                                                        \
    case value:                                                                                    \
        return #name;
        MQTT5_ERROR_MAP(MQTT5_ERROR_NAME_)
#undef MQTT5_ERROR_NAME_
    default:
        return "MQTT5_ERR_UNKNOWN";
    }
}

const char *mqtt5_error_str(int err)
{
    switch (err) {
#define MQTT5_ERROR_MSG_(name, value, msg)                                                         \
    case value:                                                                                    \
        return msg;
        MQTT5_ERROR_MAP(MQTT5_ERROR_MSG_)
#undef MQTT5_ERROR_MSG_
    default:
        return "unknown error";
    }
}
