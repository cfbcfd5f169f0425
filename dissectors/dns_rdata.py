"""DNS resource-record data (RFC 1035, 3596, 2782, 6891, 8659, 9460) as tshark 4.0 shows it."""

from __future__ import annotations

import base64

from analyzer.cursor import Base, ByteCursor, Truncated, format_ipv4, format_ipv6, text_node
from analyzer.model import Field, Layer, Severity
from dissectors.dns_names import EDNS_OPTION_NAMES, duration, format_text, read_name

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA, T_SRV = 1, 2, 5, 6, 12, 15, 16, 28, 33
T_OPT, T_SVCB, T_HTTPS, T_SPF, T_CAA = 41, 64, 65, 99, 257
C_IN = 1
SVCB_KEYS = {
    0: "mandatory",
    1: "alpn",
    2: "no-default-alpn",
    3: "port",
    4: "ipv4hint",
    5: "echconfig",
    6: "ipv6hint",
    32769: "odohconfig",
    65535: "key65535",
}


class Rdata:
    """What one record's data reads need: the message bounds and where to put results."""

    def __init__(self, cursor: ByteCursor, layer: Layer, msg_start: int, msg_end: int) -> None:
        self.cursor = cursor
        self.layer = layer
        self.msg_start = msg_start
        self.msg_end = msg_end
        self.info: list[str] = []

    def name(self, parent: Field, key: str, label: str, at: int) -> tuple[str, int]:
        text, used, _, _ = read_name(self.cursor.data, at, self.msg_start, self.msg_end)
        parent.add(Field(key, f"{label}: {text}", text, text, at, used))
        return text, used

    def uint(self, parent: Field, key: str, label: str, at: int, size: int, **kw: object) -> int:
        return self.cursor.uint(parent, key, label, size, at=at, **kw)  # type: ignore[arg-type]


def dissect_rdata(rd: Rdata, tree: Field, rtype: int, rclass: int, at: int, size: int) -> str:
    """Add the fields of one record's data; return the text tshark appends to the record line.

    Like tshark, fixed-size reads start at the data but are not limited to RDLENGTH (only to
    the message), names may point anywhere in the message, and `rd.info` collects the text
    the Info column gets.
    """
    c = rd.cursor
    if rtype == T_A and rclass == C_IN:
        addr = format_ipv4(c.peek(4, at))
        c.ipv4(tree, "dns.a", "Address", at=at)
        rd.info.append(addr)
        return f", addr {addr}"
    if rtype == T_AAAA:
        addr = format_ipv6(c.peek(16, at))
        c.ipv6(tree, "dns.aaaa", "AAAA Address", at=at)
        rd.info.append(addr)
        return f", addr {addr}"
    if rtype in (T_NS, T_CNAME, T_PTR):
        key, label, word = {
            T_NS: ("dns.ns", "Name Server", ", ns "),
            T_CNAME: ("dns.cname", "CNAME", ", cname "),
            T_PTR: ("dns.ptr.domain_name", "Domain Name", ", "),
        }[rtype]
        text, _ = rd.name(tree, key, label, at)
        rd.info.append(text)
        return f"{word}{text}"
    if rtype == T_MX:
        preference = c.peek_uint(2, at)
        text, _ = read_name(c.data, at + 2, rd.msg_start, rd.msg_end)[:2]
        rd.uint(tree, "dns.mx.preference", "Preference", at, 2)
        rd.name(tree, "dns.mx.mail_exchange", "Mail Exchange", at + 2)
        rd.info.append(f"{preference} {text}")
        return f", preference {preference}, mx {text}"
    if rtype == T_SOA:
        return _soa(rd, tree, at)
    if rtype in (T_TXT, T_SPF):
        _txt(rd, tree, at, size, "dns.txt" if rtype == T_TXT else "dns.spf")
        return ""
    if rtype == T_SRV:
        priority, weight, port = (c.peek_uint(2, at + i) for i in (0, 2, 4))
        rd.uint(tree, "dns.srv.priority", "Priority", at, 2)
        rd.uint(tree, "dns.srv.weight", "Weight", at + 2, 2)
        rd.uint(tree, "dns.srv.port", "Port", at + 4, 2)
        target, _ = rd.name(tree, "dns.srv.target", "Target", at + 6)
        rd.info.append(f"{priority} {weight} {port} {target}")
        return f", priority {priority}, weight {weight}, port {port}, target {target}"
    if rtype == T_OPT:
        _opt(rd, tree, at, size)
        return ""
    if rtype in (T_SVCB, T_HTTPS):
        _svcb(rd, tree, at, size)
        return ""
    if rtype == T_CAA:
        _caa(rd, tree, at, size)
        return ""
    c.bytes_field(tree, "dns.data", "Data", size, at=at)
    rd.layer.problem(
        "dns.undecoded_type",
        f"Dissector for DNS Type ({rtype}) code not implemented, Contact Wireshark developers"
        " if you want this supported",
        Severity.WARNING,
        at,
        size,
        group="Undecoded",
    )
    return ""


def _soa(rd: Rdata, tree: Field, at: int) -> str:
    mname, used = rd.name(tree, "dns.soa.mname", "Primary name server", at)
    at += used
    _, used = rd.name(tree, "dns.soa.rname", "Responsible authority's mailbox", at)
    at += used
    rd.uint(tree, "dns.soa.serial_number", "Serial Number", at, 4)
    for key, label in (
        ("dns.soa.refresh_interval", "Refresh Interval"),
        ("dns.soa.retry_interval", "Retry Interval"),
        ("dns.soa.expire_limit", "Expire limit"),
        ("dns.soa.minimum_ttl", "Minimum TTL"),
    ):
        at += 4
        rd.uint(tree, key, label, at, 4, text=lambda v: f"{v} ({duration(v)})")
    rd.info.append(mname)
    return f", mname {mname}"


def _txt(rd: Rdata, tree: Field, at: int, size: int, key: str) -> None:
    """Character-strings to the end of the data (TXT, and SPF which shares the format)."""
    end = at + size
    label = key.removeprefix("dns.").upper()
    while at < end:
        length = rd.uint(tree, f"{key}.length", f"{label} Length", at, 1)
        rd.cursor.string(tree, key, label, length, at=at + 1)
        at += 1 + length


def _opt(rd: Rdata, tree: Field, at: int, size: int) -> None:
    c = rd.cursor
    end = at + size
    while at < end:
        code = c.peek_uint(2, at)
        length = c.peek_uint(2, at + 2)
        name = EDNS_OPTION_NAMES.get(code, f"Unknown ({code})")
        # FT_NONE items print as "1" in `-T fields`.
        option = tree.add(Field("dns.opt", f"Option: {name}", None, "1", at, 4 + length))
        c.uint(option, "dns.opt.code", "Option Code", 2, at=at, names=EDNS_OPTION_NAMES)
        c.uint(option, "dns.opt.len", "Option Length", 2, at=at + 2)
        data_at = at + 4
        if data_at + length > end:
            rd.layer.problem(
                "dns.opt.length_past_rdata",
                f"Option length {length} runs past the OPT record's data",
                Severity.ERROR,
                at + 2,
                2,
            )
        _bytes(c, option, "dns.opt.data", "Option Data", data_at, length)
        if code == 10:  # COOKIE (RFC 7873): 8-byte client cookie, optional server cookie
            _bytes(c, option, "dns.opt.cookie.client", "Client Cookie", data_at, 8)
            _bytes(c, option, "dns.opt.cookie.server", "Server Cookie", data_at + 8, max(length - 8, 0))
        elif code in (8, 20730):
            _client_subnet(c, option, data_at, length)
        elif code == 12:
            _bytes(c, option, "dns.opt.padding", "Padding", data_at, length)
        elif code == 11 and length == 2:
            c.uint(option, "dns.opt.edns_tcp_keepalive.timeout", "Timeout", 2, at=data_at)
        elif code == 15 and length >= 2:
            c.uint(option, "dns.opt.ext_error.info_code", "Info Code", 2, at=data_at, text=_ede_text)
            if length > 2:
                c.string(option, "dns.opt.ext_error.extra_text", "Extra Text", length - 2, at=data_at + 2)
        at = data_at + length


def _client_subnet(c: ByteCursor, option: Field, at: int, length: int) -> None:
    """RFC 7871 client subnet: family, netmasks, then the address's significant bytes."""
    family = c.uint(option, "dns.opt.client.family", "Family", 2, at=at, names={1: "IPv4", 2: "IPv6"})
    c.uint(option, "dns.opt.client.netmask", "Source Netmask", 1, at=at + 2)
    c.uint(option, "dns.opt.client.scope", "Scope Netmask", 1, at=at + 3)
    size = length - 4
    if size > 16:
        size = 16
        c.check(at + 4, size)
    raw = c.peek(max(size, 0), at + 4)
    if family == 1:
        text = format_ipv4((raw + bytes(4))[:4])
        option.add(Field("dns.opt.client.addr4", f"Client Subnet: {text}", text, text, at + 4, size))
    elif family == 2:
        text = format_ipv6((raw + bytes(16))[:16])
        option.add(Field("dns.opt.client.addr6", f"Client Subnet: {text}", text, text, at + 4, size))
    else:
        c.bytes_field(option, "dns.opt.client.addr", "Client Subnet", max(size, 0), at=at + 4)


EXTENDED_ERRORS = (
    "Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type", "Stale Answer",
    "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus", "Signature Expired",
    "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing", "No Zone Key Bit Set",
    "NSEC Missing", "Cached Error", "Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
    "Stale NXDomain Answer", "Not Authoritative", "Not Supported", "No Reachable Authority",
    "Network Error", "Invalid Data",
)  # fmt: skip


def _ede_text(code: int) -> str:
    """RFC 8914 info codes as tshark 4.0 names them."""
    if code < len(EXTENDED_ERRORS):
        name = EXTENDED_ERRORS[code]
    else:
        name = "Reserved for Private Use" if code >= 49152 else "Unassigned"
    return f"{name} ({code})"


def _bytes(c: ByteCursor, parent: Field, key: str, label: str, at: int, size: int) -> None:
    """FT_BYTES as tshark shows it, "<MISSING>" when empty."""
    if size == 0:
        c.check(at, 0)
        parent.add(Field(key, f"{label}: <MISSING>", b"", "<MISSING>", at, 0))
        return
    c.bytes_field(parent, key, label, size, at=at)


def _caa(rd: Rdata, tree: Field, at: int, size: int) -> None:
    c = rd.cursor
    flags = c.uint(tree, "dns.caa.flags", "CAA Flags", 1, at=at, base=Base.HEX)
    c.flag(tree.children[-1], "dns.caa.flags.issuer_critical", "Issuer Critical", 1, 0x80, at=at,
           true_text="Critical", false_text="Not critical")  # fmt: skip
    del flags
    tag_len = c.peek_uint(1, at + 1)
    tag = c.peek(tag_len, at + 2).decode("ascii", "replace")
    value_len = max(size - (tag_len + 2), 0)
    value = format_text(c.peek(value_len, at + 2 + tag_len))
    key, label = {
        "issue": ("dns.caa.issue", "Issue"),
        "issuewild": ("dns.caa.issuewild", "Issue Wildcard"),
        "iodef": ("dns.caa.iodef", "Report URL"),
    }.get(tag, ("dns.caa.unknown", "Unknown tag"))
    item = tree.add(Field(key, f"{label}: {value}", value, value, at + 1, 1 + tag_len + value_len))
    c.uint(item, "dns.caa.tag_length", "Tag length", 1, at=at + 1)
    item.add(Field("dns.caa.tag", f"Tag: {tag}", tag, tag, at + 2, tag_len))
    item.add(Field("dns.caa.value", f"Value: {value}", value, value, at + 2 + tag_len, value_len))


def _svcb(rd: Rdata, tree: Field, at: int, size: int) -> None:
    c = rd.cursor
    end = at + size
    rd.uint(tree, "dns.svcb.svcpriority", "SvcPriority", at, 2)
    _, used = rd.name(tree, "dns.svcb.targetname", "TargetName", at + 2)
    at += 2 + used
    while at < end:
        key = c.peek_uint(2, at)
        length = c.peek_uint(2, at + 2)
        key_name = SVCB_KEYS.get(key, f"key{key}")
        param = tree.add(Field("dns.svcb.svcparam", f"SvcParam: {key_name}", None, "1", at, 4 + length))
        c.uint(param, "dns.svcb.svcparam.key", "SvcParamKey", 2, at=at, names=SVCB_KEYS)
        c.uint(param, "dns.svcb.svcparam.value.length", "SvcParamValue length", 2, at=at + 2)
        at += 4
        values: list[str] = []
        stop = at + length
        if key == 0:
            while at < stop:
                values.append(SVCB_KEYS.get(c.peek_uint(2, at), f"key{c.peek_uint(2, at)}"))
                c.uint(param, "dns.svcb.svcparam.mandatory.key", "Mandatory key", 2, at=at, names=SVCB_KEYS)
                at += 2
        elif key == 1:
            while at < stop:
                size_alpn = c.uint(param, "dns.svcb.svcparam.alpn.length", "ALPN length", 1, at=at)
                values.append(c.string(param, "dns.svcb.svcparam.alpn", "ALPN", size_alpn, at=at + 1))
                at += 1 + size_alpn
        elif key == 3:
            values.append(str(c.uint(param, "dns.svcb.svcparam.port", "Port", 2, at=at)))
            at += 2
        elif key in (4, 6):
            width = 4 if key == 4 else 16
            name = "dns.svcb.svcparam.ipv4hint.ip" if key == 4 else "dns.svcb.svcparam.ipv6hint.ip"
            while at < stop:
                read = c.ipv4 if key == 4 else c.ipv6
                values.append(read(param, name, "IP", at=at))
                at += width
        elif key == 5:
            raw = c.peek(length, at)
            text = base64.b64encode(raw).decode()
            param.add(Field("dns.svcb.svcparam.echconfig", f"ECHConfig: {text}", raw, raw.hex(), at, length))
            values.append(text)
            at += length
        elif length > 0:
            values.append(format_text(c.peek(length, at)))
            c.bytes_field(param, "dns.svcb.svcparam.value", "SvcParamValue", length, at=at)
            at += length
        if values:
            param.label += "=" + ",".join(values)
        if at != stop:
            at = stop


def record_node(parent: Field | Layer, label: str, at: int, size: int) -> Field:
    return text_node(parent, label, at, size)


__all__ = ["Rdata", "Truncated", "dissect_rdata", "record_node"]
