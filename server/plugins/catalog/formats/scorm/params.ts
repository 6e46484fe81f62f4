/** The launch URL's query parameters for a SCO session: the one-time start id, and the SCORM version (which API to inject). */
export const START_PARAM = 'lms-scorm';
export const VERSION_PARAM = 'lms-scorm-api';
