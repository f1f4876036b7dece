"""Service standards (服务标准检查表): versioned checklists, spreadsheet import and export."""
