/*
 * client_auth.c - MQTT 5 enhanced authentication in the client core (specification 4.12): AUTH
 * exchanges between CONNECT and CONNACK, and re-authentication while connected. The core checks
 * the protocol (method, reason codes, who may speak when); the user's on_auth callback supplies
 * the challenge responses through mqtt5_client_core_auth.
 */
#include <string.h>

#include "core/client_internal.h"

bool client_auth_enabled(const mqtt5_client_core *c)
{
    return c->opt.auth;
}

/* The authentication method of the CONNECT template. */
static mqtt5_str our_method(const mqtt5_client_core *c)
{
    mqtt5_packet tpl;
    client_connect_template(c, &tpl);
    return tpl.u.connect.properties.authentication_method;
}

static bool same_method(const mqtt5_client_core *c, const mqtt5_properties *p)
{
    mqtt5_str ours = our_method(c);
    if (!MQTT5_PROPS_HAS(p, MQTT5_PROP_AUTHENTICATION_METHOD)) return false;
    return p->authentication_method.len == ours.len &&
           (ours.len == 0 || memcmp(p->authentication_method.ptr, ours.ptr, ours.len) == 0);
}

void client_auth_reset(mqtt5_client_core *c)
{
    client_packet_copy_free(c, c->auth);
    c->auth = NULL;
    c->reauth_running = false;
}

void client_auth_on_packet(mqtt5_client_core *c, const mqtt5_disconnect *auth)
{
    bool connecting = c->state == MQTT5_CS_MQTT_CONNECT;
    bool ok = client_auth_enabled(c) && same_method(c, &auth->properties);
    if (ok) {
        if (auth->reason_code == MQTT5_RC_CONTINUE_AUTHENTICATION)
            ok = connecting || c->reauth_running;
        else if (auth->reason_code == MQTT5_RC_SUCCESS)
            ok = !connecting && c->reauth_running;
        else
            ok = false; /* 0x19 is for the client to send */
    }
    if (!ok) {
        client_fail_connection(c, MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_PROTOCOL_ERROR, NULL, NULL);
        return;
    }
    if (auth->reason_code == MQTT5_RC_SUCCESS) c->reauth_running = false;
    client_auth_fn on_auth = client_cb_auth(c); /* set: client_auth_enabled */
    c->in_callback++;
    on_auth(c->cb.user, auth);
    c->in_callback--;
}

int mqtt5_client_core_auth(mqtt5_client_core *c, uint64_t now, uint8_t reason,
                           const mqtt5_properties *props, mqtt5_codec_status *st)
{
    if (st) *st = (mqtt5_codec_status){0};
    if (now > c->now) c->now = now;
    if (!client_auth_enabled(c)) {
        if (st)
            *st = (mqtt5_codec_status){MQTT5_ERR_INVALID_STATE, 0, 0,
                                       "properties.authenticationMethod",
                                       "no authentication method in the CONNECT template"};
        return MQTT5_ERR_INVALID_STATE;
    }
    bool allowed = false;
    if (reason == MQTT5_RC_CONTINUE_AUTHENTICATION)
        allowed = c->state == MQTT5_CS_MQTT_CONNECT ||
                  (c->state == MQTT5_CS_CONNECTED && c->reauth_running);
    else if (reason == MQTT5_RC_RE_AUTHENTICATE)
        allowed = c->state == MQTT5_CS_CONNECTED && !c->reauth_running;
    if (!allowed || c->auth) {
        if (st)
            *st = (mqtt5_codec_status){MQTT5_ERR_INVALID_STATE, 0, 0, "reasonCode",
                                       "no authentication exchange accepts this reason now"};
        return MQTT5_ERR_INVALID_STATE;
    }
    mqtt5_disconnect a = {.reason_code = reason};
    if (props) a.properties = *props;
    a.properties.authentication_method = our_method(c);
    a.properties.present |= MQTT5_PROP_BIT(MQTT5_PROP_AUTHENTICATION_METHOD);
    mqtt5_packet p = {.type = MQTT5_AUTH};
    p.u.auth = a;
    size_t size;
    int rc = mqtt5_packet_encoded_size(&p, &size, st);
    if (rc) return rc;
    c->auth = client_packet_copy_new(c, &a); /* freed once encoded, or with the connection */
    if (!c->auth) return MQTT5_ERR_NOMEM;
    if (reason == MQTT5_RC_RE_AUTHENTICATE) c->reauth_running = true;
    return MQTT5_OK;
}
