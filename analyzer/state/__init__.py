"""Sans-IO trackers fed with small facts: TCP connections and analysis, UDP conversations, reassembly.

Nothing here reads files, sockets or clocks: callers extract facts (TcpSegment, UDP 5-tuples) from
dissections in frame order and feed them in one forward pass, as tshark's first pass does.
"""
