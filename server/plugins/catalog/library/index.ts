/** What the catalog plugin's index.ts wires in for the built-in course library. */
export { contentInstallCommand, installLibraryOnStart } from './library-command';
export { installLibrary, libraryBuildDir } from './install-library';
export { libraryRoutes } from './library-routes';
