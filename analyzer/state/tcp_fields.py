"""tshark's `-T fields` text for the tracker's per-segment TCP values (tcp.stream, tcp.analysis.*).

The names are Wireshark's. Expert-info flags print "1"; tcp.analysis.duplicate_ack prints "1,1"
because tshark shows both the flag item and the expert item; the three retransmission kinds
also raise tcp.analysis.retransmission, as Wireshark's expert info does.
"""

from __future__ import annotations

from analyzer.state.tcp_analysis import RETRANSMISSION_KINDS, Flag
from analyzer.state.tcp_tracker import SegmentAnalysis

FLAG_FIELDS: tuple[tuple[str, Flag], ...] = (
    ("tcp.analysis.retransmission", RETRANSMISSION_KINDS),
    ("tcp.analysis.fast_retransmission", Flag.FAST_RETRANSMISSION),
    ("tcp.analysis.spurious_retransmission", Flag.SPURIOUS_RETRANSMISSION),
    ("tcp.analysis.out_of_order", Flag.OUT_OF_ORDER),
    ("tcp.analysis.lost_segment", Flag.LOST_PACKET),
    ("tcp.analysis.ack_lost_segment", Flag.ACK_LOST_PACKET),
    ("tcp.analysis.zero_window", Flag.ZERO_WINDOW),
    ("tcp.analysis.zero_window_probe", Flag.ZERO_WINDOW_PROBE),
    ("tcp.analysis.zero_window_probe_ack", Flag.ZERO_WINDOW_PROBE_ACK),
    ("tcp.analysis.window_full", Flag.WINDOW_FULL),
    ("tcp.analysis.window_update", Flag.WINDOW_UPDATE),
    ("tcp.analysis.keep_alive", Flag.KEEP_ALIVE),
    ("tcp.analysis.keep_alive_ack", Flag.KEEP_ALIVE_ACK),
    ("tcp.analysis.reused_ports", Flag.REUSED_PORTS),
)


def relative_time(ns: int) -> str:
    """An FT_RELATIVE_TIME as tshark prints it: seconds with nine decimals."""
    sign = "-" if ns < 0 else ""
    seconds, fraction = divmod(abs(ns), 1_000_000_000)
    return f"{sign}{seconds}.{fraction:09d}"


def tcp_cells(result: SegmentAnalysis) -> dict[str, str]:
    """Field name -> tshark text for every value this segment has (absent fields are left out)."""
    cells = {
        "tcp.stream": str(result.stream),
        "tcp.seq": str(result.seq),
        "tcp.ack": str(result.ack),
        "tcp.nxtseq": str(result.nxtseq),
        "tcp.window_size": str(result.window),
        "tcp.completeness": str(result.completeness),
        "tcp.time_relative": relative_time(result.time_relative_ns),
        "tcp.time_delta": relative_time(result.time_delta_ns),
    }
    if result.window_scalefactor is not None:
        cells["tcp.window_size_scalefactor"] = str(result.window_scalefactor)
    ta = result.analysis
    if ta is None:
        return cells
    if ta.frame_acked:
        cells["tcp.analysis.acks_frame"] = str(ta.frame_acked)
        if ta.ack_rtt_ns:
            cells["tcp.analysis.ack_rtt"] = relative_time(ta.ack_rtt_ns)
    if result.initial_rtt_ns:
        cells["tcp.analysis.initial_rtt"] = relative_time(result.initial_rtt_ns)
    if ta.bytes_in_flight:
        cells["tcp.analysis.bytes_in_flight"] = str(ta.bytes_in_flight)
        cells["tcp.analysis.push_bytes_sent"] = str(ta.push_bytes_sent)
    if ta.flags:
        cells["tcp.analysis.flags"] = "1"
        for name, bits in FLAG_FIELDS:
            if ta.flags & bits:
                cells[name] = "1"
        if ta.flags & Flag.RETRANSMISSION and ta.rto_ns:
            cells["tcp.analysis.rto"] = relative_time(ta.rto_ns)
            cells["tcp.analysis.rto_frame"] = str(ta.rto_frame)
        if ta.dupack_num:
            if ta.flags & Flag.DUPLICATE_ACK:
                cells["tcp.analysis.duplicate_ack"] = "1,1"
            cells["tcp.analysis.duplicate_ack_num"] = str(ta.dupack_num)
            cells["tcp.analysis.duplicate_ack_frame"] = str(ta.dupack_frame)
    return cells
