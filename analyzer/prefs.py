"""tshark-style `-o NAME:VALUE` preference settings, mapped onto our Preferences."""

from __future__ import annotations

from dataclasses import replace

from analyzer.context import Preferences

# tshark preference name -> Preferences attribute (all booleans).
BOOLEAN_PREFERENCES = {
    "ip.defragment": "defragment_ipv4",
    "ipv6.defragment": "defragment_ipv6",
    "tcp.desegment_tcp_streams": "desegment_tcp",
    "tcp.analyze_sequence_numbers": "analyze_tcp_sequence",
    "ip.check_checksum": "check_checksums",
    "tcp.check_checksum": "check_checksums",
    "udp.check_checksum": "check_checksums",
}
TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


class PreferenceError(ValueError):
    """A `-o` setting that does not parse or names a preference we do not have."""


def apply_settings(prefs: Preferences, settings: list[str]) -> Preferences:
    """Preferences with each "name:value" setting applied, as tshark's `-o` reads them."""
    for setting in settings:
        name, sep, value = setting.partition(":")
        name, value = name.strip(), value.strip().lower()
        if not sep or not name:
            raise PreferenceError(f'Invalid -o flag "{setting}" (expected name:value)')
        attribute = BOOLEAN_PREFERENCES.get(name)
        if attribute is None:
            known = ", ".join(sorted(BOOLEAN_PREFERENCES))
            raise PreferenceError(f'-o flag "{setting}" specifies unknown preference (known: {known})')
        if value not in TRUE_WORDS | FALSE_WORDS:
            raise PreferenceError(f'Invalid value "{value}" for preference "{name}" (use TRUE or FALSE)')
        prefs = replace(prefs, **{attribute: value in TRUE_WORDS})
    return prefs
