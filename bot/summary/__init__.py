"""Summaries for the Ban Tuyên giáo – Nữ công: computed once (pure), rendered as text, XLSX, DOCX, PNG."""
