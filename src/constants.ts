/** Command, view and setting ids, spelled once; they match package.json. */
export const Commands = {
  testOrder: 'sptrader.testOrder',
  executeOnPaper: 'sptrader.executeOnPaper',
  debugOrder: 'sptrader.debugOrder',
  emergencyStop: 'sptrader.emergencyStop',
  resumeTrading: 'sptrader.resumeTrading',
  recoverState: 'sptrader.recoverState',
  tradingStatus: 'sptrader.tradingStatus',
  showAuditLog: 'sptrader.showAuditLog',
  verifyAuditLog: 'sptrader.verifyAuditLog',
  cancelOrder: 'sptrader.cancelOrder',
  cancelAllOrders: 'sptrader.cancelAllOrders',
  resetPaperAccount: 'sptrader.resetPaperAccount',
  refreshPositions: 'sptrader.refreshPositions',
  closePosition: 'sptrader.closePosition',
  refreshOrders: 'sptrader.refreshOrders',
  setActiveProfile: 'sptrader.setActiveProfile',
  selectProfile: 'sptrader.selectProfile',
  addBrokerProfile: 'sptrader.addBrokerProfile',
  editBrokerProfile: 'sptrader.editBrokerProfile',
  setCredentials: 'sptrader.setCredentials',
  connectProfile: 'sptrader.connectProfile',
  disconnectProfile: 'sptrader.disconnectProfile',
  testConnection: 'sptrader.testConnection',
  executeLive: 'sptrader.executeLive',
  compareVenues: 'sptrader.compareVenues',
  replayComponent: 'sptrader.replayComponent',
  tradingMenu: 'sptrader.tradingMenu',
  enterReducing: 'sptrader.enterReducing',
  paperFaults: 'sptrader.paperFaults',
  testInputs: 'sptrader.testInputs',
  /** Not in the manifest: views that change a venue's link (the paper fault switch) ask the status bar to redraw. */
  refreshStatusBar: 'sptrader.refreshStatusBar',
} as const;

export const Views = {
  container: 'sptrader',
  positions: 'sptrader.positions',
  openOrders: 'sptrader.openOrders',
  brokerProfiles: 'sptrader.brokerProfiles',
} as const;

/** The result panel's webview type; the serializer restores panels of this type after a reload. */
export const RESULT_PANEL_TYPE = 'sptrader.result';
/** The Compare Venues panel's webview type (restored after a reload too). */
export const COMPARE_PANEL_TYPE = 'sptrader.compare';
/** The replay panel's webview type. */
export const REPLAY_PANEL_TYPE = 'sptrader.replay';

export const StatusBarIds = {
  profile: 'sptrader.status.profile',
  trading: 'sptrader.status.trading',
} as const;

export const DIAGNOSTIC_COLLECTION = 'sptrader';

export const Settings = {
  section: 'sptrader',
  interpreterPath: 'python.interpreterPath',
  packageRoot: 'python.packageRoot',
  timeoutSeconds: 'python.timeoutSeconds',
  outputLimitBytes: 'python.outputLimitBytes',
  maxAnswerBytes: 'python.maxAnswerBytes',
  maxMetadataBytes: 'python.maxMetadataBytes',
  maxNestingDepth: 'python.maxNestingDepth',
  activeProfile: 'activeProfile',
  brokerProfiles: 'brokerProfiles',
  liveEnabled: 'live.enabled',
  paperStartingCash: 'paper.startingCash',
  paperSeed: 'paper.seed',
  replayMaxConsecutiveErrors: 'replay.maxConsecutiveErrors',
} as const;

export const OUTPUT_CHANNEL_NAME = 'SPtrader';
