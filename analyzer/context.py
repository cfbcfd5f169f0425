"""PacketContext: facts one layer leaves for the next while a single frame is dissected."""

from __future__ import annotations

from dataclasses import dataclass, field

from captures.frame import Frame


@dataclass(slots=True, frozen=True)
class Preferences:
    """User preferences that change how packets are dissected (tshark's `-o` options)."""

    check_checksums: bool = True
    resolve_names: bool = True
    # tshark's tcp.desegment_tcp_streams (its default is TRUE; off here until every golden
    # group is generated with it on): reassemble application PDUs that span TCP segments.
    desegment_tcp: bool = False
    # tshark's ip.defragment / ipv6.defragment (default TRUE there; off here for the same reason):
    # put IP fragments back together and dissect the datagram on the frame that completes it.
    defragment_ipv4: bool = False
    defragment_ipv6: bool = False
    # tshark's tcp.analyze_sequence_numbers: the analysis tags in the summary lines' Info. The tree
    # keeps its [SEQ/ACK analysis] either way.
    analyze_tcp_sequence: bool = True

    @property
    def defragment(self) -> tuple[bool, bool, bool]:
        """What the summary lines' defragmenter needs: IPv4, IPv6, and checksum verification."""
        return self.defragment_ipv4, self.defragment_ipv6, self.check_checksums


@dataclass(slots=True, frozen=True)
class FrameTimes:
    """Reference times for a frame's derived time fields, in ns since the epoch."""

    first_ns: int
    previous_captured_ns: int
    previous_displayed_ns: int


@dataclass(slots=True)
class PacketContext:
    """Scratch facts for one frame: lower layers fill them in, upper layers read them.

    Lives for one call of `dissect_frame` only; nothing here survives across frames.
    """

    frame: Frame
    prefs: Preferences = field(default_factory=Preferences)
    times: FrameTimes | None = None
    # The frame.protocols chain ("eth", "ethertype", "ip", ...), appended by the pipeline
    # for each layer and by dissectors for Wireshark's pseudo-protocols such as "ethertype".
    protocols: list[str] = field(default_factory=list)
    # Network layer facts for checksums and port dispatch.
    ip_version: int = 0
    ip_src: bytes = b""
    ip_dst: bytes = b""
    ip_proto: int = -1
    ip_payload_len: int = -1  # bytes the network layer says its payload has (for pseudo-headers)
    # True when the payload is one fragment of a larger datagram (its checksum cannot be verified).
    ip_fragmented: bool = False
    src_port: int = -1
    dst_port: int = -1
    # True while dissecting the packet quoted inside an ICMP/ICMPv6 error message.
    in_error: bool = False
    # Layer nesting depth for the layers dissected from now on.
    depth: int = 0
    # The media type an application layer hands its body on with ("text/plain"), for the
    # media dissectors (data-text-lines, urlencoded-form, media) that name it in their label.
    media_type: str = ""
