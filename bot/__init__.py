"""Trợ lý báo cáo Công đoàn: the channel-neutral core."""

__version__ = "0.1.0"
