"""Telephony shells: AMI, FastAGI, queue_log, `hotline serve`. All the I/O lives here."""
