/*
 * mqtt5/mqtt5.h - umbrella header of the mqtt5 SDK: include this to get the whole public API.
 */
#ifndef MQTT5_MQTT5_H
#define MQTT5_MQTT5_H

#define MQTT5_VERSION_STRING "0.1.0"

#include "mqtt5/error.h"
#include "mqtt5/packet.h"
#include "mqtt5/codec.h"
#include "mqtt5/topic.h"
#include "mqtt5/allocator.h"
#include "mqtt5/client_core.h"
#include "mqtt5/tls.h"
#include "mqtt5/log.h"
#include "mqtt5/runtime.h"
#include "mqtt5/client.h"
#include "mqtt5/builder.h"
#include "mqtt5/sigv4.h"
#include "mqtt5/websocket.h"
#include "mqtt5/sigv4_websocket.h"
#include "mqtt5/credentials.h"

#endif
