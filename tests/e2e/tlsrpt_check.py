#!/usr/bin/env python3
"""tlsrpt_check.py - check TLS-RPT reports of the e2e run field by field.

Usage:
  tlsrpt_check.py json FILE DOMAIN DAY      one report (JSON) against the
                                            expectations below
  tlsrpt_check.py gz FILE DOMAIN DAY        the same, gzipped
  tlsrpt_check.py mail MAILDIR-FILE DOMAIN DAY
                                            a report message: MIME, headers,
                                            the gunzipped JSON
  tlsrpt_check.py big FILE                  the oversized report

Prints nothing and exits 0 when everything matches; otherwise prints
what differs, one line, and exits 1.
"""
import email
import email.policy
import gzip
import json
import sys

SENDER = "sender.test"
STS = lambda mx: ["version: STSv1", "mode: enforce", "mx: " + mx,
                  "max_age: 86400"]


def fd(result, count, mx, ip, helo=None, code=None, sending=True):
    d = {"result-type": result, "failed-session-count": count,
         "receiving-mx-hostname": mx}
    if ip:
        d["receiving-ip"] = ip
    if sending:
        d["sending-mta-ip"] = "127.0.0.1"
    if helo:
        d["receiving-mx-helo"] = helo
    if code:
        d["failure-reason-code"] = code
    return d


# domain: [(policy-type, policy-string, mx-host, ok, failed, [details])]
EXPECT = {
    "rpt-sts.test": [("sts", STS("mx.rpt-sts.test"), ["mx.rpt-sts.test"],
                      # left out by the stsdane_mtasts router: never
                      # resolved, never connected to, so no address
                      3, 3, [fd("validation-failure", 3, "mx.evil.test",
                                None, code="mx-not-in-policy",
                                sending=False)])],
    "rpt-notls.test": [("sts", STS("mx.rpt-notls.test"),
                        ["mx.rpt-notls.test"], 0, 1,
                        [fd("starttls-not-supported", 1, "mx.rpt-notls.test",
                            "127.0.3.3", helo="mx.sts-notls.test")])],
    "rpt-name.test": [("sts", STS("mx.rpt-name.test"), ["mx.rpt-name.test"],
                       0, 1, [fd("certificate-host-mismatch", 1,
                                 "mx.rpt-name.test", "127.0.3.2",
                                 helo="mx.shared.test")])],
    "rpt-expired.test": [("sts", STS("mx.rpt-expired.test"),
                          ["mx.rpt-expired.test"], 0, 1,
                          [fd("certificate-expired", 1, "mx.rpt-expired.test",
                              "127.0.6.3", helo="mx.rpt-expired.test")])],
    "rpt-ca.test": [("sts", STS("mx.rpt-ca.test"), ["mx.rpt-ca.test"], 0, 1,
                     [fd("certificate-not-trusted", 1, "mx.rpt-ca.test",
                         "127.0.6.4", helo="mx.rpt-ca.test")])],
    "rpt-fetch.test": [("sts", None, None, 0, 1,
                        [fd("sts-policy-fetch-error", 1, "mx.rpt-fetch.test",
                            "127.0.2.5", helo="mx.enforce.test",
                            code="connect")])],
    "rpt-unreach.test": [("no-policy-found", None, None, 0, 1,
                          [fd("starttls-not-supported", 1,
                              "mx.rpt-unreach.test", "127.0.3.3",
                              helo="mx.sts-notls.test")])],
}


def fail(msg):
    print(msg)
    sys.exit(1)


def check(rep, domain, day):
    want_top = {
        "organization-name": "Sender Test Org",
        "date-range": {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": day + "T23:59:59Z"},
        "contact-info": "mailto:postmaster@sender.test",
        "report-id": "%s.%s@%s" % (day, domain, SENDER),
    }
    for k, v in want_top.items():
        if rep.get(k) != v:
            fail("%s: %s is %r, not %r" % (domain, k, rep.get(k), v))
    extra = set(rep) - set(want_top) - {"policies"}
    if extra:
        fail("%s: unexpected fields %s" % (domain, sorted(extra)))
    pols = rep.get("policies", [])
    want = EXPECT[domain]
    if len(pols) != len(want):
        fail("%s: %d policies, not %d" % (domain, len(pols), len(want)))
    for p, (ptype, pstr, mxh, nok, nfail, details) in zip(pols, want):
        pol = p["policy"]
        if pol.get("policy-domain") != domain:
            fail("%s: a policy of domain %r" % (domain,
                                                 pol.get("policy-domain")))
        if pol.get("policy-type") != ptype:
            fail("%s: policy-type %r" % (domain, pol.get("policy-type")))
        if pol.get("policy-string") != pstr:
            fail("%s: policy-string %r" % (domain, pol.get("policy-string")))
        if pol.get("mx-host") != mxh:
            fail("%s: mx-host %r" % (domain, pol.get("mx-host")))
        s = p["summary"]
        got = (s["total-successful-session-count"],
               s["total-failure-session-count"])
        if got != (nok, nfail):
            fail("%s: summary %r, not %r" % (domain, got, (nok, nfail)))
        det = p.get("failure-details", [])
        if len(det) != len(details):
            fail("%s: %d failure-details, not %d" % (domain, len(det),
                                                       len(details)))
        for g, w in zip(det, details):
            g = dict(g)
            g.pop("additional-information", None)
            if g != w:
                fail("%s: failure-details %r, not %r" % (domain, g, w))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "json":
        check(json.load(open(path)), sys.argv[3], sys.argv[4])
    elif mode == "gz":
        check(json.loads(gzip.decompress(open(path, "rb").read())),
              sys.argv[3], sys.argv[4])
    elif mode == "mail":
        domain, day = sys.argv[3], sys.argv[4]
        m = email.message_from_binary_file(open(path, "rb"),
                                           policy=email.policy.default)
        rid = "%s.%s@%s" % (day, domain, SENDER)
        hdr = {
            "Subject": "Report Domain: %s Submitter: %s Report-ID: <%s>"
                       % (domain, SENDER, rid),
            "TLS-Report-Domain": domain,
            "TLS-Report-Submitter": SENDER,
            "TLS-Required": "No",
        }
        for k, v in hdr.items():
            if m.get(k) != v:
                fail("mail: %s is %r, not %r" % (k, m.get(k), v))
        if m.get_content_type() != "multipart/report" or \
                m.get_param("report-type") != "tlsrpt":
            fail("mail: Content-Type %r" % m.get("Content-Type"))
        parts = [p for p in m.iter_parts()]
        types = [p.get_content_type() for p in parts]
        if types != ["text/plain", "application/tlsrpt+gzip"]:
            fail("mail: parts %r" % types)
        name = parts[1].get_filename()
        if name != "%s!%s!%sT00:00:00Z!%sT23:59:59Z.json.gz" % (
                SENDER, domain, day, day):
            fail("mail: file name %r" % name)
        check(json.loads(gzip.decompress(parts[1].get_content())),
              domain, day)
    elif mode == "big":
        rep = json.load(open(path))
        p = rep["policies"][0]
        det = p["failure-details"]
        s = p["summary"]
        if s["total-failure-session-count"] != 1500:
            fail("big: %r" % s)
        if len(det) != 1001 or sum(d["failed-session-count"]
                                   for d in det) != 1500:
            fail("big: %d details, %d sessions" % (
                len(det), sum(d["failed-session-count"] for d in det)))
        last = det[-1]
        if last.get("failure-reason-code") != "details-truncated" or \
                last["failed-session-count"] != 500:
            fail("big: last entry %r" % last)
    else:
        fail("usage")


main()
