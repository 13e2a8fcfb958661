"""SIPp and the demo/load rig: residents calling, agent seats answering.

- :mod:`telephony.rig.sipp`: SIPp processes from the scenarios in ``asterisk-conf/sipp``.
- :mod:`telephony.rig.rig`: Asterisk + SIPp seats + a trickle of residents.
"""
