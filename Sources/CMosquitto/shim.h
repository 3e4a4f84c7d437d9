// libmosquitto (Debian libmosquitto-dev): the MQTT client library under MQTTIngest, and the
// OpenSSL calls (Debian libssl-dev) that say why a TLS handshake of its refused the broker.
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
