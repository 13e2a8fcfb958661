"""Production reports over what ``hotline serve`` recorded (``hotline report``)."""
