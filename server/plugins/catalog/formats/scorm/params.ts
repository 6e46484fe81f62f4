/** The launch URL's query parameters for a SCO session: the one-time start id, and the SCORM version (which API to inject). */
export const START_PARAM = 'lms-scorm';
export const VERSION_PARAM = 'lms-scorm-api';
/** The frame page that holds the API on the content origin, and its parameter naming the SCO's page. */
export const FRAME_PATH = '/catalog/scorm/frame';
export const SCO_PARAM = 'sco';

/** Script URLs a SCO's page (or the frame page) loads: scorm-again's API for the version, then our player. */
export const scriptsFor = (baseUrl: string, version: '1.2' | '2004') => [
  `${baseUrl}/catalog/scorm/${version === '1.2' ? 'scorm12' : 'scorm2004'}.js`,
  `${baseUrl}/catalog/scorm/player.js`,
];
