/*
 * fuzz_wamessage.c - what the WhatsApp sink reads from the Wamessage API
 * (sinks/whatsapp/wamessage.h): an answer's classification and the
 * tolerant readers of the login, pairing, logincontrol and devices
 * answers, the choice of a device, and the token cache file.
 *
 * The input is an answer's body; "#@status N" gives its HTTP status (200
 * when absent) and "#@retry-after VALUE" its Retry-After header (seconds
 * or an HTTP date, read as the HTTP client reads it).
 *
 * What must hold besides not crashing: a Retry-After is -1 (not one) or
 * between 0 and a year; an answer that is not 2xx is never
 * a delivery, and one that is refused says why; every device read has a
 * registration id and a status; asking for a device by a registration id
 * of the list finds that device, and asking for any finds a connected one
 * exactly when the list has one.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sinks/whatsapp/wamessage.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_quiet();
    return 0;
}

static void fz_devices(const cJSON *ans)
{
    as_wa_devices_t d;
    as_result_t res = {0};
    if (as_wa_read_devices(ans, &d, &res) < 0) {
        if (res.outcome == AS_DELIVERED || res.reason[0] == '\0')
            fz_fail("a devices answer refused without a reason");
        as_wa_devices_free(&d);
        return;
    }
    int any = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (d.v[i].reg_id == NULL || d.v[i].reg_id[0] == '\0' || d.v[i].status == NULL)
            fz_fail("device %zu has no registration id or status", i);
        any |= d.v[i].connected;
    }
    const as_wa_device_t *dev = NULL;
    int rc = as_wa_pick_device(&d, NULL, &dev, &res);
    if ((rc == 0) != any || (rc == 0 && (dev == NULL || !dev->connected)))
        fz_fail("the device picked does not match the list (%d connected)", any);
    if (d.n > 0) {
        rc = as_wa_pick_device(&d, d.v[d.n - 1].reg_id, &dev, &res);
        if (dev == NULL || strcmp(dev->reg_id, d.v[d.n - 1].reg_id) != 0)
            fz_fail("device %s is listed but not found", d.v[d.n - 1].reg_id);
        if ((rc == 0) != dev->connected)
            fz_fail("device %s picked against its state", dev->reg_id);
    }
    as_wa_pick_device(&d, "7001", &dev, &res);
    as_wa_devices_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned flags[] = {0, AS_WA_NO_AUTH, AS_WA_STATUS_FALSE_OK};
    fz_input_t in;
    fz_input_split(&in, data, size);
    as_httpc_resp_t resp;
    fz_http_answer(&in, &resp);

    for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        cJSON *ans = NULL;
        as_result_t res;
        memset(&res, 0xa5, sizeof(res));
        int rc = as_wa_answer("call", &resp, flags[f], &ans, &res);
        int ok2xx = resp.status >= 200 && resp.status < 300;
        if ((rc == 0) != (res.outcome == AS_DELIVERED))
            fz_fail("an answer's return and outcome disagree");
        if (rc == 0 && !ok2xx)
            fz_fail("HTTP %ld taken for a delivery", resp.status);
        if (rc < 0 &&
            (res.reason[0] == '\0' || memchr(res.reason, '\0', sizeof(res.reason)) == NULL))
            fz_fail("an answer refused without a reason");
        if (f == 0) {
            char *token = as_wa_read_token(ans), *code = NULL, *reg = NULL;
            free(token);
            if (as_wa_read_login_code(ans, &code, &reg, &res) == 0 && (code == NULL || reg == NULL))
                fz_fail("a pairing answer read without its code or id");
            free(code);
            free(reg);
            as_wa_read_linked(ans);
            fz_devices(ans);
        }
        cJSON_Delete(ans);
    }
    char *cached = as_wa_read_cache(resp.body.data ? resp.body.data : "", resp.body.len,
                                    "https://api.wamessage.app", "905550000000");
    free(cached);

    as_buf_free(&resp.body);
    fz_input_free(&in);
    return 0;
}
